"""qaloop: performance and quality-assurance reporting for children's services.

The command line (`qaloop.cli`) and the synthetic demonstration LA (`qaloop.synthetic`): the
top layer, above `flows/` and the domain package `tasks/`."""

from tasks.core.paths import QALOOP_VERSION as __version__  # noqa: F401
