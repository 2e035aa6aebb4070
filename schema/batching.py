"""Objects loaded together, so that what a field needs from the database is loaded for all of them at once.

graphql-core resolves a list item by item, depth first: the resolver of `User.tasks` runs once
for each user of a page, and a resolver that queried would make one query per item. Instead,
every list read from the database (a connection's page, schema.relay) marks its objects as one
Batch, and the objects they hold through select_related fields (each task's owner) as another,
and so on. A field that needs the database asks the batch of its object: the first call loads
for every object of the batch, later calls find their share. So the SQL of a document depends
on its shape, not on how many items its lists hold (tests/test_no_query_per_item.py).

A batch lives on its objects, which live as long as the request's answer; an object that came
alone (`me`, `task(id:)`) is a batch of one. Synchronous, unlike Strawberry's DataLoader, which
needs the asynchronous view.
"""

_BATCH = "_loaded_with"


class Batch:
    def __init__(self, objects):
        self.objects = objects
        self.loaded = {}

    def load(self, key, load_all):
        """`load_all(objects)` for the whole batch, the first time this key is asked for; its result."""
        if key not in self.loaded:
            self.loaded[key] = load_all(self.objects)
        return self.loaded[key]


def batch_of(obj):
    return obj.__dict__.get(_BATCH) or Batch([obj])


def group(objects, related=None):
    """Mark `objects` as one batch, and the objects each holds in its select_related fields
    (`related`, a queryset's query.select_related) as batches of their own."""
    objects = [obj for obj in objects if obj is not None]
    if not objects:
        return
    batch = Batch(objects)
    for obj in objects:
        obj.__dict__[_BATCH] = batch
    if isinstance(related, dict):
        for name, deeper in related.items():
            # getattr's default: a reverse one-to-one without its object raises AttributeError.
            group([getattr(obj, name, None) for obj in objects], deeper)
