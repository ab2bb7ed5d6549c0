"""User-facing errors: one clear line, exit code 2, nothing written."""


class UsageError(Exception):
    """Bad input from the user (config, data, flags).

    The message names the problem and the fix in one line. The CLI prints it as
    ``error: <message>`` and exits with status 2 before anything is written.
    """


EXIT_USAGE = 2
