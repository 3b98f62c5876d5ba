"""Finding the ``java`` executable and the Hazelcast member jar.

Both searches say exactly what they tried when they fail, and how to fix it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

from hazelkit._core._exceptions import ConfigurationError

__all__ = ["HAZELCAST_VERSION", "find_hazelcast_jar", "find_java"]

HAZELCAST_VERSION: Final = "5.7.0"
"""The Hazelcast member version hazelkit's local clusters run (Community edition)."""

JAR_ENV_VAR: Final = "HAZELKIT_HAZELCAST_JAR"
CACHE_ENV_VAR: Final = "HAZELKIT_CACHE_DIR"
MAVEN_REPO_ENV_VAR: Final = "MAVEN_REPO_LOCAL"
ARTIFACT: Final = f"com.hazelcast:hazelcast:{HAZELCAST_VERSION}"
JAR_NAME: Final = f"hazelcast-{HAZELCAST_VERSION}.jar"
MAVEN_TIMEOUT: Final = 300.0

_HOW_TO_FIX_JAR = (
    "To fix it, do one of:\n"
    "  - pass the jar explicitly (--jar PATH on the command line, jar=PATH in Python);\n"
    f"  - set {JAR_ENV_VAR}=/path/to/{JAR_NAME};\n"
    f"  - copy {JAR_NAME} into the cache directory (${CACHE_ENV_VAR} or ~/.cache/hazelkit);\n"
    "  - install Maven (`mvn` on PATH) and let hazelkit fetch it, or run yourself:\n"
    f"      mvn -q -B dependency:get -Dartifact={ARTIFACT} -Dtransitive=false"
)


def find_java(explicit: str | Path | None = None) -> Path:
    """Return the ``java`` executable that members are started with.

    Uses ``explicit`` if given (an error if it is not an executable file), else
    ``$JAVA_HOME/bin/java``, else ``java`` on ``PATH``. Hazelcast 5.7 needs Java 17 or
    newer; the version is not checked here (a too-old JVM fails at start-up and its
    message ends up in the start-up error).

    Raises:
        ConfigurationError: no Java runtime was found; the message lists what was tried.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ConfigurationError(
            f"The Java executable {path} does not exist or is not executable. Install a JDK"
            " 17 or newer, or pass the path of its bin/java."
        )
    tried: list[str] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        tried.append(f"$JAVA_HOME/bin/java ({candidate}): not an executable file")
    else:
        tried.append("$JAVA_HOME: not set")
    on_path = shutil.which("java")
    if on_path is not None:
        return Path(on_path)
    tried.append("`java` on PATH: not found")
    raise ConfigurationError(
        "No Java runtime found to start Hazelcast members. Tried:\n"
        + "".join(f"  - {item}\n" for item in tried)
        + "To fix it, install a JDK 17 or newer (e.g. `apt-get install openjdk-17-jre-headless`)"
        " and put `java` on PATH, or set JAVA_HOME to its installation directory."
    )


def cache_dir() -> Path:
    """The directory searched for a cached jar: ``$HAZELKIT_CACHE_DIR`` or ~/.cache/hazelkit."""
    configured = os.environ.get(CACHE_ENV_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "hazelkit"


def maven_repository() -> Path:
    """The local Maven repository: ``$MAVEN_REPO_LOCAL`` or ~/.m2/repository."""
    configured = os.environ.get(MAVEN_REPO_ENV_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".m2" / "repository"


def _maven_jar() -> Path:
    return maven_repository() / "com" / "hazelcast" / "hazelcast" / HAZELCAST_VERSION / JAR_NAME


def find_hazelcast_jar(
    explicit: str | Path | None = None, *, download: bool = True, timeout: float = MAVEN_TIMEOUT
) -> Path:
    """Return the path of ``hazelcast-5.7.0.jar``, fetching it with Maven if allowed.

    The search order is: ``explicit`` (an error if it is not a file); the file named by
    ``$HAZELKIT_HAZELCAST_JAR`` (an error if it is not a file); ``hazelcast-5.7.0.jar`` in
    the cache directory (``$HAZELKIT_CACHE_DIR`` or ~/.cache/hazelkit); the local Maven
    repository (``$MAVEN_REPO_LOCAL`` or ~/.m2/repository). Finally, when ``download`` is
    true and ``mvn`` is on ``PATH``, ``mvn dependency:get`` fetches the jar from Maven
    Central into the local Maven repository; Maven gets at most ``timeout`` seconds and is
    killed after that.

    Raises:
        ConfigurationError: the jar was not found (or could not be fetched); the message
            lists every place tried and how to fix it.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path.is_file():
            return path
        raise ConfigurationError(
            f"The Hazelcast jar {path} does not exist or is not a file. "
            f"Pass the path of {JAR_NAME} (--jar PATH, or jar=PATH in Python)."
        )
    from_env = os.environ.get(JAR_ENV_VAR)
    if from_env:
        path = Path(from_env).expanduser()
        if path.is_file():
            return path
        raise ConfigurationError(
            f"${JAR_ENV_VAR} names {path}, which does not exist or is not a file. "
            f"Point it at {JAR_NAME} or unset it."
        )
    tried = [f"${JAR_ENV_VAR}: not set"]
    for candidate in (cache_dir() / JAR_NAME, _maven_jar()):
        if candidate.is_file():
            return candidate
        tried.append(f"{candidate}: no such file")
    if download:
        fetched, outcome = _fetch_with_maven(timeout)
        if fetched is not None:
            return fetched
        tried.append(outcome)
    else:
        tried.append("fetching with Maven: not attempted (download=False)")
    raise ConfigurationError(
        f"The Hazelcast {HAZELCAST_VERSION} jar was not found. Tried:\n"
        + "".join(f"  - {item}\n" for item in tried)
        + _HOW_TO_FIX_JAR
    )


def _fetch_with_maven(timeout: float) -> tuple[Path | None, str]:
    """Run ``mvn dependency:get``; return the jar, or None and what went wrong."""
    mvn = shutil.which("mvn")
    if mvn is None:
        return None, "fetching with Maven: `mvn` is not on PATH (install Maven to enable it)"
    command = [mvn, "-q", "-B", "dependency:get", f"-Dartifact={ARTIFACT}", "-Dtransitive=false"]
    if os.environ.get(MAVEN_REPO_ENV_VAR):
        command.append(f"-Dmaven.repo.local={maven_repository()}")
    shown = " ".join(command)
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, mvn found on PATH
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, f"`{shown}`: gave up after {timeout:g} s"
    except OSError as exc:
        return None, f"`{shown}`: could not run it ({exc})"
    jar = _maven_jar()
    if result.returncode == 0 and jar.is_file():
        return jar, ""
    output = (result.stdout + result.stderr).strip().splitlines()[-10:]
    detail = "".join(f"\n      {line}" for line in output)
    return None, f"`{shown}`: exit code {result.returncode}, {jar} still missing{detail}"
