from chalice import Chalice

from chalicelib.routes import channels, meta, posts, workspace
from chalicelib.routes import http as http_routes

app = Chalice(app_name="herald")
app.register_blueprint(meta.bp)
app.register_blueprint(workspace.bp)
app.register_blueprint(channels.bp)
app.register_blueprint(posts.bp)
# Last: it answers preflight for every route registered before it.
app.register_blueprint(http_routes.bp)
