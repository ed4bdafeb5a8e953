"""Train a model from a config: ``python tools/train.py CONFIG [options]`` (see ``--help``)."""
import argparse

from mmssl.engine import add_train_arguments, load_train_config, train
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with mmssl')
    parser.add_argument('config', help='config file path')
    args = add_train_arguments(parser).parse_args(argv)
    train(load_train_config(args.config, args))


if __name__ == '__main__':
    run_cli(main)
