"""The API's routes, one module per resource; each is thin: parse, call the engine or the store, shape."""

from service.routes import backtests, elections, events, forecasts, health, jobs, models

ROUTERS = [health.router, elections.router, forecasts.router, events.router, models.router, jobs.router, backtests.router]
