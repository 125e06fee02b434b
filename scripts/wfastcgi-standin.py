"""Builds wfastcgi-3.0.0-py3-none-any.whl holding a labelled stand-in module, into the folder given as argv[1].

wfastcgi is a Windows-only PyPI package that cannot be downloaded on an offline Linux machine. The tests and the
offline demo install this stand-in instead, so pip really installs a wheel named wfastcgi and the venv really holds
a wfastcgi.py. It is never used on a server: there pip installs the real wfastcgi (input `wfastcgi`).
"""
import base64
import hashlib
import os
import sys
import zipfile

STAND_IN = b'''# STAND-IN: this is NOT Microsoft's wfastcgi. It only occupies the name and version (3.0.0) so that an
# offline Linux machine can install a wheel called wfastcgi and find wfastcgi.py in a venv. It cannot serve FastCGI.
__version__ = '3.0.0'


def main():
    raise SystemExit('stand-in for wfastcgi: it does not speak FastCGI')
'''

INFO = 'wfastcgi-3.0.0.dist-info'


def build(folder):
    os.makedirs(folder, exist_ok=True)
    files = {
        'wfastcgi.py': STAND_IN,
        INFO + '/METADATA': b'Metadata-Version: 2.1\nName: wfastcgi\nVersion: 3.0.0\nSummary: Stand-in, not the real wfastcgi\n',
        INFO + '/WHEEL': b'Wheel-Version: 1.0\nGenerator: django-iis-deploy\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    }
    # RECORD lists each file's sha256 (urlsafe base64, unpadded) and size; pip checks it.
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append('%s,sha256=%s,%d' % (name, digest, len(data)))
    record.append(INFO + '/RECORD,,')
    files[INFO + '/RECORD'] = ('\n'.join(record) + '\n').encode()
    target = os.path.join(folder, 'wfastcgi-3.0.0-py3-none-any.whl')
    with zipfile.ZipFile(target, 'w', zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return target


if __name__ == '__main__':
    print(build(sys.argv[1]))
