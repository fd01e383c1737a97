"""The WSGI app, `run:app`. `python -m learnhub.server` serves it in production (README);
`python run.py` starts Flask's development server instead."""

import os

from learnhub import create_app

app = create_app()

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
