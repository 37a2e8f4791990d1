"""Extensions loaded by the Rasa server process (.venv-rasa) by module path from endpoints.yml."""
