from mmssl.utils.cli_errors import run_cli

from .cli import entry_point

if __name__ == '__main__':
    run_cli(entry_point)
