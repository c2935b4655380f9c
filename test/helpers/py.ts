/** Python snippets driving smtplib, so tests use a real third-party client. */

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
try:
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
