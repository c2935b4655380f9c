/** Python snippets driving smtplib, so tests use a real third-party client. */

/** The end of both smtplib scripts: send `msg` from `sender` to `to`, print `out` with the outcome. */
const SENDMAIL_AND_REPORT = String.raw`try:
    refused = s.sendmail(sender, to, msg.encode('utf-8'))
    out.update(code=250, refused={k: [v[0], v[1].decode()] for k, v in refused.items()})
except smtplib.SMTPRecipientsRefused as e:
    out.update(code=0, refused={k: [v[0], v[1].decode()] for k, v in e.recipients.items()})
except smtplib.SMTPResponseException as e:
    out.update(code=e.smtp_code, text=e.smtp_error.decode())
try:
    s.quit()
except Exception:
    pass
print(json.dumps(out))
`;

/** argv: port, starttls(0|1), from, to (comma-separated), message → {"refused": {...}, "code": n, "text": s, "tls": bool} */
export const SMTPLIB_SEND = String.raw`
import json, smtplib, ssl, sys
port, starttls, sender, to, msg = int(sys.argv[1]), sys.argv[2] == '1', sys.argv[3], sys.argv[4].split(','), sys.argv[5]
s = smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('client.test')
tls = False
if starttls:
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx); s.ehlo('client.test'); tls = True
out = {'tls': tls, 'features': sorted(s.esmtp_features.keys())}
${SENDMAIL_AND_REPORT}`;

/**
 * argv: port, then a raw byte script as hex. Sends it in one write after EHLO and prints every
 * reply line received until the server closes or 2 s pass in silence.
 */
export const RAW_SESSION = String.raw`
import json, socket, sys, time
port, data = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port), timeout=5)
buf = b''
def more(wait):
    global buf
    s.settimeout(wait)
    try:
        chunk = s.recv(65536)
        if not chunk:
            return False
        buf += chunk
        return True
    except socket.timeout:
        return None
more(5)
s.sendall(data)
deadline = time.time() + 15
while time.time() < deadline:
    r = more(2)
    if r is not True:
        break
print(json.dumps([l for l in buf.decode('latin1').split('\r\n') if l]))
`;

/**
 * argv: port, mode (plain|stls|ssl), user, password, JSON list of steps
 * (["stat"], ["uidl"], ["retr", n], ["top", n, lines], ["dele", n], ["rset"], ["list"], ["drop"]).
 * Prints {"login": ..., "results": [...]}; "drop" closes the socket without QUIT.
 */
export const POPLIB_SESSION = String.raw`
import json, poplib, ssl, sys
port, mode, user, password, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20) if mode == 'ssl' else poplib.POP3('127.0.0.1', port, timeout=20)
if mode == 'stls':
    p.stls(context=ctx)
out = {'capa': sorted(p.capa().keys())}
try:
    p.user(user); out['login'] = p.pass_(password).decode()
except poplib.error_proto as e:
    out['login'] = str(e.args[0].decode() if isinstance(e.args[0], bytes) else e.args[0])
    print(json.dumps(out)); sys.exit(0)
res = []
for step in steps:
    try:
        if step[0] == 'stat': res.append(list(p.stat()))
        elif step[0] == 'uidl': res.append([l.decode() for l in p.uidl()[1]])
        elif step[0] == 'list': res.append([l.decode() for l in p.list()[1]])
        elif step[0] == 'retr': res.append(b'\r\n'.join(p.retr(step[1])[1]).decode('latin1'))
        elif step[0] == 'top': res.append(b'\r\n'.join(p.top(step[1], step[2])[1]).decode('latin1'))
        elif step[0] == 'dele': res.append(p.dele(step[1]).decode())
        elif step[0] == 'rset': res.append(p.rset().decode())
        elif step[0] == 'drop': p.sock.close(); out['results'] = res; print(json.dumps(out)); sys.exit(0)
    except poplib.error_proto as e:
        res.append('ERR ' + e.args[0].decode())
out['results'] = res
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;

/**
 * argv: port, mode (starttls | tls | plain), user, password, auth mechanism (PLAIN | LOGIN), from,
 * to (comma-separated), message → {"features": [...before AUTH], "auth": [code, text], "code": n, "text": s, "refused": {...}}
 */
export const SMTPLIB_SUBMIT = String.raw`
import json, smtplib, ssl, sys
port, mode, user, password, mech, sender, to, msg = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7].split(','), sys.argv[8]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL('127.0.0.1', port, timeout=30, context=ctx) if mode == 'tls' else smtplib.SMTP('127.0.0.1', port, timeout=30)
s.ehlo('client.test')
if mode == 'starttls':
    s.starttls(context=ctx); s.ehlo('client.test')
out = {'features': sorted(s.esmtp_features.keys()), 'auth_offered': s.esmtp_features.get('auth', '')}
try:
    s.user, s.password = user, password
    out['auth'] = list(s.auth(mech, getattr(s, 'auth_' + mech.lower().replace('-', '_')), initial_response_ok=True))
    out['auth'][1] = out['auth'][1].decode()
except smtplib.SMTPException as e:
    out['auth'] = [getattr(e, 'smtp_code', 0), getattr(e, 'smtp_error', b'').decode() if isinstance(getattr(e, 'smtp_error', b''), bytes) else str(e)]
${SENDMAIL_AND_REPORT}`;

/**
 * argv: port, mode (plain | starttls | ssl), user, password, steps as JSON: [[method, ...args], ...]
 * on an imaplib.IMAP4 object (args that are {"b": "..."} are bytes). Prints the login's reply,
 * each step's (typ, data) with bytes as latin-1 text, and the capabilities seen after login.
 */
export const IMAPLIB_SESSION = String.raw`
import imaplib, json, ssl, sys
port, mode, user, password, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
M = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx, timeout=30) if mode == 'ssl' else imaplib.IMAP4('127.0.0.1', port, timeout=30)
if mode == 'starttls':
    M.starttls(ssl_context=ctx)
def plain(x):
    if isinstance(x, bytes): return x.decode('latin-1')
    if isinstance(x, (list, tuple)): return [plain(y) for y in x]
    return x
out = {'greeting': plain(M.welcome)}
try:
    out['login'] = plain(M.login(user, password))
except imaplib.IMAP4.error as e:
    out['login'] = ['NO', [str(e)]]
out['capabilities'] = list(M.capabilities)
results = []
for step in steps:
    args = [a['b'].encode('utf-8') if isinstance(a, dict) else a for a in step[1:]]
    try:
        results.append(plain(getattr(M, step[0])(*args)))
    except imaplib.IMAP4.error as e:
        results.append(['ERROR', [str(e)]])
out['results'] = results
try:
    M.logout()
except Exception:
    pass
print(json.dumps(out))
`;
