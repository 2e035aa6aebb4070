"""A lookup that every request makes, compiled to SQL once per database connection.

`LoginSession.objects.select_related("user").get(pk=...)` costs about 0.3 ms of Python each time
(building the queryset, compiling it to SQL, building the instances), where running its SQL takes
0.04 ms (docs/performance.md). CompiledLookup has the ORM compile that query once, on the first
use of each connection, then runs the same SQL with each new value, converts the row with the
compiler's own converters and builds the same instances, the related one cached on the other as
select_related leaves it.

The SQL, its select list and converters come from Django's SQL compiler, which is not public API:
tests/test_library_internals.py names what is used here, and tests/test_compiled_lookup.py
compares every field with the queryset's own answer.
"""

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from django.db import connections, router
from django.db.models import Q


class CompiledLookup:
    """`model.objects.select_related(related).filter(<key>=value, <also[0]>=..., ...)` for a unique
    `key`: the instance, with its `related` object loaded, or None. The `also` fields narrow it
    further (a task by its id and its owner's)."""

    def __init__(self, model, key, related, also=()):
        self.model = model
        self.key = key
        self.key_field = model._meta.pk if key == "pk" else model._meta.get_field(key)
        if not self.key_field.unique:
            raise ValueError(f"{model.__name__}.{key} is not unique: a lookup by it may find several rows.")
        self.also = tuple(also)
        self.also_fields = [model._meta.get_field(name) for name in self.also]
        self.related = related
        self.related_model = model._meta.get_field(related).related_model
        self._compiled = WeakKeyDictionary()  # {connection: _Statement}; a connection belongs to one thread

    def find(self, value, *also_values):
        """The instance whose key is `value` (and whose `also` fields hold `also_values`), or None."""
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        parameters = self._parameters(connection, value, also_values)
        if parameters is None:
            return None
        statement = self._compiled.get(connection)
        if statement is None:
            statement = self._compiled[connection] = self._compile(alias, value, also_values)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, parameters)
            rows = cursor.fetchall()
        if not rows:
            return None
        (row,) = statement.compiler.apply_converters(rows, statement.converters)
        split = len(statement.own_names)
        instance = self.model.from_db(alias, statement.own_names, row[:split])
        setattr(instance, self.related, self.related_model.from_db(alias, statement.related_names, row[split:]))
        return instance

    def _parameters(self, connection, value, also_values):
        if len(also_values) != len(self.also_fields):
            raise TypeError(f"A lookup of {self.model.__name__} takes a value for each of {self.also}.")
        fields_and_values = zip((self.key_field, *self.also_fields), (value, *also_values), strict=True)
        parameters = []
        for field, each in fields_and_values:
            parameter = field.get_db_prep_value(each, connection, prepared=False)
            if not _within_column(connection, field, parameter):
                return None
            parameters.append(parameter)
        return parameters

    def _compile(self, alias, value, also_values):
        """The SQL of the queryset for `value` (and `also_values`), once it is checked to take those
        as its only parameters, in order, and to select every column of the model, then every
        column of the related one."""
        narrowing = zip(self.also, also_values, strict=True)
        conditions = [Q(**{self.key: value}), *(Q(**{name: each}) for name, each in narrowing)]
        queryset = self.model._default_manager.select_related(self.related).filter(*conditions)
        compiler = queryset.query.get_compiler(using=alias)
        sql, parameters = compiler.as_sql()
        connection = compiler.connection
        own_fields, related_fields = self.model._meta.concrete_fields, self.related_model._meta.concrete_fields
        selected = [expression for expression, _, _ in compiler.select]
        expected_parameters = self._parameters(connection, value, also_values)
        if list(parameters) != expected_parameters or [column.target for column in selected] != [
            *own_fields,
            *related_fields,
        ]:
            raise RuntimeError(
                f"Django compiled {sql!r} with {list(parameters)!r}, unlike what CompiledLookup expects: "
                "see tests/test_library_internals.py."
            )
        return _Statement(
            sql=sql,
            compiler=compiler,
            converters=compiler.get_converters(selected),
            own_names=[field.attname for field in own_fields],
            related_names=[field.attname for field in related_fields],
        )


def _within_column(connection, field, parameter):
    """Whether an integer column can hold `parameter`: a lookup by a value out of its range finds
    nothing, as the ORM's lookups decide without asking the database (which may refuse the value)."""
    column_type = (field.target_field if field.is_relation else field).get_internal_type()
    if not isinstance(parameter, int) or column_type not in connection.ops.integer_field_ranges:
        return True
    lowest, highest = connection.ops.integer_field_range(column_type)
    return (lowest is None or parameter >= lowest) and (highest is None or parameter <= highest)


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    compiler: object  # what compiled it, which also applies its converters
    converters: dict
    own_names: list
    related_names: list
