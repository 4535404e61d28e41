"""How a time window is worded in every reply: the way people type windows, never raw seconds.

    15m, 90m, 1h, 6h, 6h25m, 24h, 2d, 2d3h, 45s

One function, used by the log and metric answers and by ``Query.spoken`` (so a "next: send
logs api 6h25m" hint reads back as the same window). A window anchored to a clock time
(``since 2am``) carries odd seconds: they are dropped, as a person would.
Cost: a few integer divisions.
"""

from __future__ import annotations

from datetime import timedelta

_MINUTE, _HOUR, _DAY = 60, 3600, 86400


def window_text(window: timedelta) -> str:
    """``1h``, ``15m``, ``90m``, ``6h25m``, ``2d``, ``2d3h``: whole units, the coarsest exact one."""
    seconds = max(0, int(window.total_seconds()))
    if seconds < _MINUTE:
        return f"{seconds}s"
    minutes = seconds // _MINUTE
    if seconds >= 2 * _DAY:
        days, hours = divmod(seconds // _HOUR, 24)
        return f"{days}d" + (f"{hours}h" if hours else "")
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"{hours}h"
    if minutes < 2 * 60:  # 90m reads as typed; 1h30m is no shorter
        return f"{minutes}m"
    return f"{hours}h{rest}m"
