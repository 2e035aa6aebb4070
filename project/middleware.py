"""The base of middleware that serves WSGI and ASGI alike, as Django documents it: synchronous
under gunicorn, asynchronous under uvicorn, without Django adapting it with a thread hop."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class SyncAndAsyncMiddleware:
    """A subclass defines `handle(request)` and `async ahandle(request)`, each calling
    `self.get_response` in its own way."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.ahandle(request)
        return self.handle(request)

    def handle(self, request):
        raise NotImplementedError

    async def ahandle(self, request):
        raise NotImplementedError
