"""Log lines as JSON objects, one a line (LOG_FORMAT=json), for log collectors that index fields."""

import json
import logging
from datetime import UTC, datetime


class LogFields(dict):
    """A log message made of named values (an audit event's): JSON text in a plain log line, and
    the line's own keys in a JSON one, rather than a JSON string inside the JSON line."""

    def __str__(self):
        return json.dumps(self, default=str)


class JsonFormatter(logging.Formatter):
    """`time`, `level`, `logger` and `request_id` (project.request_id.RequestIdFilter), then the
    message's fields (LogFields) or `message`, and the traceback as `exception` when there is one."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
        }
        if isinstance(record.msg, LogFields) and not record.args:
            for key, value in record.msg.items():
                line.setdefault(key, value)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)
