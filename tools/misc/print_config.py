"""Print the fully merged config: ``print_config.py CONFIG [--cfg-options k=v ...]``."""
import argparse

from mmengine.config import Config, DictAction

from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(cfg.pretty_text)


if __name__ == '__main__':
    run_cli(main)
