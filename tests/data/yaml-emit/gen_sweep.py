#!/usr/bin/env python3
"""Regenerates the sops-pinned sweep cases of tests_sweep.rs.

For each case it writes a typed tree (`<name>.json`), turns it into a plaintext YAML that
yaml.v3 reads back as exactly that tree (strings double-quoted with escapes, invalid UTF-8 as
!!binary), encrypts it with the real sops and the fixture age key, and stores what
`sops decrypt` prints (`<name>.out`). Run from anywhere; needs sops and age-keygen on PATH.
"""
import base64, json, math, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = os.path.join(HERE, '..', 'sops', 'keys', 'age1.txt')


def q(s):
    """A YAML double-quoted scalar for the str s."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"' or ch == '\\':
            out.append('\\' + ch)
        elif 0x20 <= c < 0x7f:
            out.append(ch)
        elif c <= 0xff:
            out.append('\\x%02X' % c)
        elif c <= 0xffff:
            out.append('\\u%04X' % c)
        else:
            out.append('\\U%08X' % c)
    out.append('"')
    return ''.join(out)


def scalar(v):
    if v is None:
        return 'null'
    (tag, x), = v.items()
    if tag == 'b':
        return 'true' if x else 'false'
    if tag == 'i':
        return str(x)
    if tag == 'f':
        return {'inf': '.inf', '-inf': '-.inf', 'NaN': '.nan'}.get(x, x)
    if tag == 's':
        return q(x)
    if tag == 'x':
        return '!!binary ' + base64.b64encode(bytes.fromhex(x)).decode()
    if tag == 't':
        return x
    raise ValueError(tag)


def key_text(k):
    return q(k)


def block(v, indent, lines, prefix):
    """Appends lines for value v; prefix is the text before it on the first line."""
    pad = ' ' * indent
    if isinstance(v, dict) and 'm' in v:
        if not v['m']:
            lines.append(prefix + '{}')
            return
        if prefix.strip():
            lines.append(prefix.rstrip())
            first_pad = pad
        else:
            first_pad = prefix
        for n, (k, x) in enumerate(v['m']):
            p = (first_pad if n == 0 and not prefix.strip() else pad)
            block(x, indent + 2, lines, p + key_text(k) + ': ')
        return
    if isinstance(v, dict) and 'l' in v:
        if not v['l']:
            lines.append(prefix + '[]')
            return
        lines.append(prefix.rstrip())
        for x in v['l']:
            block(x, indent + 2, lines, pad + '- ')
        return
    lines.append(prefix + scalar(v))


def to_yaml(docs):
    parts = []
    for d in docs:
        lines = []
        if not d['m']:
            lines.append('{}')
        else:
            for k, x in d['m']:
                block(x, 2, lines, key_text(k) + ': ')
        parts.append('\n'.join(lines) + '\n')
    return '---\n'.join(parts)


def sops_roundtrip(plain, extract=None):
    r1 = subprocess.run(['age-keygen', '-y', KEY], capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'in.yaml')
        open(p, 'w').write(plain)
        enc = subprocess.run(['sops', 'encrypt', '--age', r1, p], capture_output=True, cwd=d, check=True).stdout
        e = os.path.join(d, 'enc.yaml')
        open(e, 'wb').write(enc)
        cmd = ['sops', 'decrypt'] + (['--extract', extract] if extract else []) + [e]
        env = dict(os.environ, SOPS_AGE_KEY_FILE=KEY)
        r = subprocess.run(cmd, capture_output=True, cwd=d, env=env)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
        return r.stdout


def s(x):
    return {'s': x}


def strings():
    out = [chr(c) for c in range(0, 128)]
    out += ['a' + chr(c) + 'b' for c in range(0, 128) if chr(c) not in 'ab']
    out += [chr(c) + 'x' for c in range(0x20, 0x7f)]
    out += ['x' + chr(c) for c in range(0x20, 0x7f)]
    out += ['x ' + c for c in '#:-?']
    out += [chr(c) + ' x' for c in range(0x21, 0x7f)]
    out += ['\u0085', '\u00a0', '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff', '\ue000',
            '\ud7ff', '\U0001F600', '\U00010000', '\u0080', '\u009f', 'x\u0085', '\u00a0x',
            'x\u00a0', '\ufeff\u00a0 "\\\u2028\U0001F600x', '\ufeff', 'a\ufeff', ' \ufeff',
            'a\u2028', '\u2028a', 'a\u2029b', 'a\u2028\u2028b', 'a \u2028b', 'a\u2028 b',
            'a\tb', '\ta', 'a\t', 'a\t\nb', 'a\n\tb', '\t\n', 'x\ny\u2028', 'x\n\u2028y']
    out += ['', ' ', '  ', '\n', '\n\n', '\n\n\n', 'a\n', 'a\n\n', 'a\n\n\n', '\na', '\n\na',
            ' a\nb', 'a\n b', 'a \nb', 'a\nb ', 'a\n\nb', 'a\n \nb', ' \n', '\n ', 'a\r\nb\n',
            'a\nb\n', '- a\nb', '#x\ny', 'a\n#b', 'x: y\nz', '"\n\'', 'a\x00\nb', 'a\U0001F600\nb',
            'a\u0085\nb', 'line\n  indented\n', '\n  lead\n', 'a\n\n\nb\n\n']
    words = ['null', 'Null', 'NULL', 'nULL', '~', 'true', 'True', 'TRUE', 'tRUE', 'false', 'FALSE',
             'y', 'Y', 'yes', 'Yes', 'YES', 'yES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON',
             'off', 'Off', 'OFF', 'oN', 'yes ', 'inf', 'Inf', 'INF', 'nan', 'NaN', '.inf', '.Inf',
             '.INF', '.iNF', '+.inf', '-.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN', '.nAn',
             '<<', '<<<', '< <', '=', '0', '00', '-0', '+0', '07', '08', '09', '0.', '.0', '.',
             '-.', '+.', '0x', '0x1F', '0X1F', '0xg', '-0x1F', '+0x1F', '0o17', '0O17', '0o8',
             '-0o17', '0b101', '0B101', '0b102', '-0b101', '1_000', '_1000', '1000_', '1__0',
             '1_0.5', '1e3', '1E3', '1e+3', '1e-3', '1e', 'e3', '1.5e3.2', '1.5', '-1.5', '+1.5',
             '.5', '-.5', '+.5', '.5e3', '.5_0', '1.', '1..2', '1.2.3', '1e400', '-1e400',
             '1e-400', '1' * 310, '9223372036854775807', '9223372036854775808',
             '-9223372036854775808', '-9223372036854775809', '18446744073709551615',
             '18446744073709551616', '+9223372036854775808', '0x8000000000000000',
             '0xFFFFFFFFFFFFFFFF', '0x10000000000000000', '0x1p3', '1_2:30', '12:30', '1:2',
             '12:60', '12:30:45', '190:20:30.15', '-1:30', '+1:30', '1:30.', '1:30._',
             '12:3a', ':30', '1::30', '2024-01-01', '2024-1-1', '2024-13-01', '2024-02-29',
             '2023-02-29', '2024-04-31', '2024-01-01T00:00:00Z', '2024-01-01t00:00:00Z',
             '2024-01-01T00:00:00z', '2024-01-01T00:00:00', '2024-01-01 00:00:00',
             '2024-01-01 0:0:0', '2024-01-01 24:00:00', '2024-01-01 23:59:60',
             '2024-01-01T12:00:00+01:00', '2024-01-01T12:00:00+0100', '2024-01-01T12:00:00.5Z',
             '2024-01-01T12:00:00,5Z', '2024-01-01T12:00:00.Z', '2024-01-01 12:00:00.123',
             '2024-01-01 12:00:00 +01:00', '2024-01-01T12:00:00+25:00', '2024-001-01',
             '10000-01-01', '999-01-01', '2024-01-01x', '2024-01', '2024-', '2024-1-1T1:2:3Z']
    out += words
    out += ['a' * 128, 'a' * 129, 'é' * 64, 'é' * 65, '\U0001F600' * 32, 'a' * 125 + '<', 'x' * 200]
    seen, res = set(), []
    for x in out:
        if x not in seen:
            seen.add(x)
            res.append(x)
    return res


def floats():
    vals = ['0.0', '-0.0', '1.0', '0.1', '0.2', '0.30000000000000004', '123456.0', '1234567.0',
            '999999.0', '1000000.0', '999999.9', '100000.5', '0.0001', '0.00001', '0.00012345',
            '1.7976931348623157e308', '5e-324', '2.2250738585072014e-308', '123456789012345680.0',
            '1e21', '1e20', '1e22', '4.468743327960138e16', '3.141592653589793', '-2.5e-5',
            '6.02214076e23', '1.5e300', 'inf', '-inf', 'NaN', '12345.678', '0.000123', '99.99']
    vals += ['1e%d' % e for e in range(-12, 26)]
    vals += ['-%d.5' % (10 ** e) for e in range(0, 9)]
    return vals


def main():
    cases = {}
    strs = strings()
    cases['sweep-string-values'] = {'docs': [{'m': [['k%03d' % i, s(x)] for i, x in enumerate(strs)]}]}
    # Keys with line breaks or tabs make sops write keys it cannot read back; keep them out.
    keys = [x for x in strs if x != '<<' and not any(c in x for c in '\n\t\r\u0085\u2028\u2029')]
    cases['sweep-string-keys'] = {'docs': [{'m': [[x, {'i': i}] for i, x in enumerate(keys)]}]}
    cases['sweep-string-nested'] = {'docs': [{'m': [
        ['list', {'l': [s(x) for x in strs]}],
        ['deep', {'m': [['inner', {'l': [{'m': [['k%03d' % i, s(x)] for i, x in enumerate(strs)]}]}]]}],
    ]}]}
    cases['sweep-floats'] = {'docs': [{'m': [['f%03d' % i, {'f': x}] for i, x in enumerate(floats())]}]}
    cases['sweep-binary'] = {'docs': [{'m': [
        ['short', {'x': 'ff00fe'}], ['len51', {'x': 'ff' * 51}], ['len52', {'x': 'ff' * 52}],
        ['len53', {'x': 'ff' * 53}], ['long', {'x': 'c3' * 200}],
        ['nested', {'m': [['b', {'x': 'ff' * 120}]]}], ['inlist', {'l': [{'x': 'ff' * 60}, {'x': '80'}]}],
    ]}]}
    base = [['a', {'i': 1}]]
    cases['sweep-layout'] = {'docs': [
        {'m': [['m', {'m': [['a', {'m': [['b', {'m': [['c', {'l': [{'l': [{'l': [s('x'), s('y')]}]}, {'m': [['k', {'m': [['z', s('multi\nline\n')]]}]]}]}]]}]]}]]}],
               ['lm', {'l': [{'m': [['a', {'l': [s('1'), {'m': []}, {'l': []}]}], ['b', {'m': [['c', s(' x\ny')]]}]]}, {'m': []}, {'l': []}, s('a\nb')]}],
               ['ll', {'l': [{'l': [{'m': [['a', {'i': 1}], ['b', {'l': [{'i': 2}]}]]}]}]}],
               ['x' * 130, {'l': [{'i': 1}, {'i': 2}]}],
               ['y' * 130, {'m': [['a', {'i': 1}], ['b', {'m': []}]]}],
               ['z' * 130, {'m': []}],
               ['key\nwith break', {'m': [['a', s('b')]]}],
               ['k2\n', s('v\n')],
               ['types', {'l': [None, {'b': True}, {'b': False}, {'i': -5}, {'f': '2.5'}, {'t': '2001-12-14T21:59:43.1-05:00'}, s('<<')]}],
               ['<<', {'m': [['x', {'i': 1}]]}],
               ]},
        {'m': []},
        {'m': base},
        {'m': [['last', s('end\n\n')]]},
    ]}
    only = sys.argv[1:]
    for name, tree in cases.items():
        if only and name not in only:
            continue
        plain = to_yaml(tree['docs'])
        out = sops_roundtrip(plain)
        json.dump(tree, open(os.path.join(HERE, name + '.json'), 'w'), indent=0, ensure_ascii=True)
        open(os.path.join(HERE, name + '.out'), 'wb').write(out)
        print(name, len(out))

    values = {
        'int': ({'i': 5432}, None), 'float': ({'f': '1234567.0'}, None), 'bool': ({'b': True}, None),
        'null': (None, None), 'time': ({'t': '2001-12-14T21:59:43.1-05:00'}, None),
        'list': ({'l': [s('a'), s('b'), {'i': 1}, s('yes'), s('x\ny')]}, None),
        'list-of-maps': ({'l': [{'m': [['a', {'i': 1}], ['b', {'m': [['c', s('d')]]}]]}, {'m': [['e', {'l': [s('f')]}]]}]}, None),
        'list-of-lists': ({'l': [{'l': [s('a'), s('b')]}, {'l': []}, {'m': []}]}, None),
        'empty-list': ({'l': []}, None),
        'float-small': ({'f': '1e-7'}, None),
        'float-inf': ({'f': '-inf'}, None),
    }
    for name, (v, _) in values.items():
        if only and 'extract-' + name not in only:
            continue
        doc = {'m': [['v', v]]}
        out = sops_roundtrip(to_yaml([doc]), '["v"]')
        json.dump({'value': v}, open(os.path.join(HERE, 'extract-' + name + '.json'), 'w'), indent=0)
        open(os.path.join(HERE, 'extract-' + name + '.out'), 'wb').write(out)
        print('extract-' + name, len(out))


main()
