from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open('mmssl/version.py') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


setup(
    name='mmssl',
    version=read_version(),
    description='OpenMMLab-style toolbox for self-supervised pre-training and benchmarking',
    long_description=open('README.md').read() if __import__('os').path.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmssl', 'mmssl.*']),
    include_package_data=True,
    python_requires='>=3.10',
    # torch and mmcv are installed by tools/setup_env.sh (mmcv needs a source build); listing
    # them here would make pip try to resolve them again.
    install_requires=['mmengine>=0.10.0,<0.11', 'numpy', 'scikit-learn', 'matplotlib'],
    extras_require={'dense': read_requirements('requirements/dense.txt'),
                    'tests': read_requirements('requirements/tests.txt')},
    zip_safe=False,
)
