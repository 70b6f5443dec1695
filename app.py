from chalice import Chalice

from chalicelib.jobs import inbox as inbox_jobs
from chalicelib.jobs import metrics as metrics_jobs
from chalicelib.jobs import publishing
from chalicelib.routes import channels, inbox, media, meta, metrics, posts, webhooks, workspace
from chalicelib.routes import http as http_routes

app = Chalice(app_name="herald")
app.register_blueprint(meta.bp)
app.register_blueprint(workspace.bp)
app.register_blueprint(channels.bp)
app.register_blueprint(posts.bp)
app.register_blueprint(media.bp)
app.register_blueprint(publishing.bp)
app.register_blueprint(metrics.bp)
app.register_blueprint(metrics_jobs.bp)
app.register_blueprint(webhooks.bp)
app.register_blueprint(inbox.bp)
app.register_blueprint(inbox_jobs.bp)
# Last: it answers preflight for every route registered before it.
app.register_blueprint(http_routes.bp)
