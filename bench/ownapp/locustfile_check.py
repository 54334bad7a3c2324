"""Does a user's locustfile define a User class?  Run in a child process, since importing
Locust patches the standard library with gevent:
`python -m sessionbench.bench.ownapp.locustfile_check PATH` exits 0 when it does, and
prints one line saying why not otherwise.  Asked before anything starts, because Locust
itself, finding no User class, tries the file as a pytest module and fails obscurely."""

import sys

NO_USER_EXIT = 4


def main() -> None:
    from locust.util.load_locustfile import load_locustfile

    path = sys.argv[1]
    try:
        users, _shapes = load_locustfile(path)
    except Exception as exc:  # the user's module failed to import: say how
        print(f"cannot import locustfile {path}: {type(exc).__name__}: {exc}", flush=True)
        sys.exit(NO_USER_EXIT)
    if not users:
        print(f"locustfile {path} defines no User class (a non-abstract subclass of "
              "locust's User, HttpUser or FastHttpUser)", flush=True)  # fmt: skip
        sys.exit(NO_USER_EXIT)


if __name__ == "__main__":
    main()
