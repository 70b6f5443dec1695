import logging
import os

from chalice import Chalice

from chalicelib.accounts import channel_routes, connect_routes, health_jobs, health_routes, workspace_routes
from chalicelib.ads import ad_jobs, ad_routes
from chalicelib.approval import approval_routes
from chalicelib.audit import audit_routes
from chalicelib.brand import brand_jobs, brand_routes
from chalicelib.core import http_routes, meta_routes
from chalicelib.feeds import feed_jobs, feed_routes
from chalicelib.giveaways import giveaway_routes
from chalicelib.goals import goal_routes
from chalicelib.imports import import_jobs, import_routes
from chalicelib.inbox import inbox_jobs, inbox_routes, webhook_routes
from chalicelib.links import link_routes
from chalicelib.metrics import metric_jobs, metric_routes
from chalicelib.outbound_webhooks import endpoint_jobs, endpoint_routes
from chalicelib.people import agency_routes, auth_routes, member_routes
from chalicelib.planning import planning_jobs, queue_routes, series_routes
from chalicelib.publishing import calendar_routes, media_routes, post_routes, publishing_jobs

# Chalice would add a stdout handler of its own to its app's logger ("herald", the parent of every module's
# herald.* logger) and set it to ERROR unless debug is on: the ticks' answers, deferrals and warnings never
# reached CloudWatch, and with a lower level each line would print twice (and on `make bench`'s stdout).
# The level alone is set here; the runtime's (or the local stack's) root handler writes the lines.
app = Chalice(app_name="herald", configure_logs=False)
LOG_LEVEL = os.environ.get("HERALD_LOG_LEVEL", "INFO").upper()
app.log.setLevel(LOG_LEVEL if LOG_LEVEL in logging.getLevelNamesMapping() else logging.INFO)
app.register_blueprint(meta_routes.bp)
app.register_blueprint(workspace_routes.bp)
app.register_blueprint(calendar_routes.bp)
app.register_blueprint(channel_routes.bp)
app.register_blueprint(connect_routes.bp)
app.register_blueprint(health_routes.bp)
app.register_blueprint(health_jobs.bp)
app.register_blueprint(post_routes.bp)
app.register_blueprint(media_routes.bp)
app.register_blueprint(publishing_jobs.bp)
app.register_blueprint(metric_routes.bp)
app.register_blueprint(metric_jobs.bp)
app.register_blueprint(webhook_routes.bp)
app.register_blueprint(inbox_routes.bp)
app.register_blueprint(inbox_jobs.bp)
app.register_blueprint(endpoint_routes.bp)
app.register_blueprint(endpoint_jobs.bp)
app.register_blueprint(audit_routes.bp)
app.register_blueprint(import_routes.bp)
app.register_blueprint(import_jobs.bp)
app.register_blueprint(feed_routes.bp)
app.register_blueprint(feed_jobs.bp)
app.register_blueprint(queue_routes.bp)
app.register_blueprint(series_routes.bp)
app.register_blueprint(planning_jobs.bp)
app.register_blueprint(approval_routes.bp)
app.register_blueprint(auth_routes.bp)
app.register_blueprint(member_routes.bp)
app.register_blueprint(agency_routes.bp)
if os.environ.get("HERALD_STAGE") == "local":  # the local stack only: GET /dev/mail reads its emulated SES
    from chalicelib.people import dev_routes

    app.register_blueprint(dev_routes.bp)
app.register_blueprint(link_routes.bp)
app.register_blueprint(goal_routes.bp)
app.register_blueprint(ad_routes.bp)
app.register_blueprint(ad_jobs.bp)
app.register_blueprint(giveaway_routes.bp)
app.register_blueprint(brand_routes.bp)
app.register_blueprint(brand_jobs.bp)
# Last: it answers preflight for every route registered before it.
app.register_blueprint(http_routes.bp)
