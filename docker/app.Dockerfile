# The app package: FastAPI app (widget, API) and the rasa-sdk action server share this image.
FROM python:3.10-slim
WORKDIR /srv
COPY pyproject.toml requirements/app.lock ./
COPY policy_db policy_db
COPY actions actions
COPY channels channels
COPY app app
COPY privacy privacy
COPY seeds seeds
COPY bot/dictionary bot/dictionary
RUN pip install --no-cache-dir -c app.lock . && mkdir -p var
ENV PYTHONPATH=/srv
EXPOSE 8000 5055
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
