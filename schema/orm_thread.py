"""Work that needs the ORM, called from an event loop: everything called in one turn of the loop
goes to the ORM's thread in one hop.

Each hop to that thread and back costs the loop and the thread a round of waking each other and
of taking the interpreter lock from one another. An event reaches every subscriber of a process
in the same turn of the loop (schema/sockets/hub.py), and each subscriber's execution of it
needs the ORM (schema/execution.py), so a thousand subscribers would pay a thousand hops per
event. Here they pay one: the calls are queued, and the first one schedules a single hop, after
the rest of the turn, that runs the whole queue.
"""

import asyncio
import weakref

from channels.db import database_sync_to_async

_queues = weakref.WeakKeyDictionary()  # event loop → the calls waiting for its next hop


async def run_in_orm_thread(function):
    """function() in the ORM's thread (Channels' database_sync_to_async), sharing the hop of
    every call made in the same turn of the loop; its result, or its exception."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = []
        loop.call_soon(_hop, loop)
    future = loop.create_future()
    queue.append((function, future))
    return await future


def _hop(loop):
    asyncio.ensure_future(_run(_queues.pop(loop)))


async def _run(queue):
    try:
        outcomes = await database_sync_to_async(_call_each)([function for function, _ in queue])
    except asyncio.CancelledError:  # with the loop
        for _, future in queue:
            future.cancel()
        raise
    except Exception as error:  # the hop itself failed
        outcomes = [(False, error)] * len(queue)
    for (_, future), (returned, value) in zip(queue, outcomes, strict=True):
        if future.done():  # its caller was cancelled meanwhile
            continue
        if returned:
            future.set_result(value)
        else:
            future.set_exception(value)


def _call_each(functions):
    outcomes = []
    for function in functions:
        try:
            outcomes.append((True, function()))
        except Exception as error:
            outcomes.append((False, error))
    return outcomes
