"""The API's routes, one module per resource; each is thin: parse, call the engine or the store, shape."""

from service.routes import backtests, charts, dashboard, elections, events, forecasts, health, jobs, ledger, models

ROUTERS = [
    health.router,
    charts.router,
    elections.router,
    forecasts.router,
    events.router,
    events.sync_router,
    models.router,
    jobs.router,
    backtests.router,
    ledger.router,
    dashboard.router,
]
