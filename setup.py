"""Packaging: every setting comes from settings.ini (the nbdev 2 configuration)."""
from configparser import ConfigParser
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
reqs = cfg.get('requirements', '').split()
test_reqs = cfg.get('test_requirements', '').split()
docs_reqs = cfg.get('docs_requirements', '').split()

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    author=cfg['author'],
    license='Apache-2.0',
    python_requires=f">={cfg['min_python']}",
    packages=setuptools.find_packages(include=['vgs_study', 'vgs_study.*']),
    include_package_data=True,
    package_data={'vgs_study': ['*.html']},          # the report page's template
    install_requires=reqs,
    extras_require={'test': test_reqs, 'docs': docs_reqs, 'dev': test_reqs + docs_reqs},
    entry_points={'console_scripts': cfg['console_scripts'].split(),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    zip_safe=False,
)
