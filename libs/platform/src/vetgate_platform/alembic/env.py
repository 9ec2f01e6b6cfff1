from vetgate_platform.migrations import run_env

run_env()
