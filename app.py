"""Lapor KBB: events in, calls out. Everything else lives in chalicelib/."""
from chalice import Chalice

from chalicelib import observability  # noqa: F401  (logging with personal data masked)
from chalicelib.api import attachments as attachments_api
from chalicelib.api import citizen, http, meta, reference

app = Chalice(app_name="lapor-kbb", configure_logs=False)
app.register_middleware(http.middleware, "http")

app.register_blueprint(meta.bp)
app.register_blueprint(reference.bp)
app.register_blueprint(citizen.bp)
app.register_blueprint(attachments_api.bp)

# API Gateway routes a preflight only to a path that declares OPTIONS; the middleware answers it.
for _path, _methods in list(app.routes.items()):
    if "OPTIONS" not in _methods:
        app.route(_path, methods=["OPTIONS"])(http.preflight_view)


# Uploads (issue 2): S3 ObjectCreated in quarantine -> UploadsQueue -> type check, EXIF strip, move.
@app.on_sqs_message(queue="UploadsQueue", batch_size=5, name="scan_upload")
def scan_upload(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import attachments

    return attachments.scan_records(event.to_dict(), event.context)
