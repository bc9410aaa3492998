"""The peer for ``make bench``: the same endpoint written the way a Django team would, with
Django REST framework's ``TokenAuthentication``, served by gunicorn. Runs in its own virtualenv."""
