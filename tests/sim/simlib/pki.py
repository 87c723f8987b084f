"""Certificates and keys for the simulated clusters, made with the openssl CLI.

Every cluster gets its own CA (so one cluster's certificates mean nothing to
the other), a serving certificate for 127.0.0.1/localhost, service-account
signing keys, and a front-proxy CA for the fault proxy's request-header
identity. Keys are EC P-256 (fast to make) except the service-account key,
which is RSA as kube-controller-manager 1.20 expects for token signing.
"""

import os
import subprocess


def _openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ec_key(path):
    if not os.path.exists(path):
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
        os.chmod(path, 0o600)


def rsa_key(path, bits=2048):
    if not os.path.exists(path):
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % bits, "-out", path)
        os.chmod(path, 0o600)


def ca(dirpath, name, cn):
    """Make (once) DIR/NAME.key and DIR/NAME.crt, a self-signed CA."""
    key, crt = os.path.join(dirpath, name + ".key"), os.path.join(dirpath, name + ".crt")
    if not os.path.exists(crt):
        ec_key(key)
        _openssl("req", "-x509", "-new", "-key", key, "-out", crt, "-days", "3650",
                 "-subj", "/CN=" + cn,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    return key, crt


def leaf(dirpath, name, ca_key, ca_crt, cn, orgs=(), sans=None, client=False, server=False):
    """Make (once) DIR/NAME.key and DIR/NAME.crt signed by the CA."""
    key, crt = os.path.join(dirpath, name + ".key"), os.path.join(dirpath, name + ".crt")
    if os.path.exists(crt):
        return key, crt
    ec_key(key)
    subj = "/CN=" + cn + "".join("/O=" + o for o in orgs)
    csr = os.path.join(dirpath, name + ".csr")
    ext = os.path.join(dirpath, name + ".ext")
    usages = []
    if server:
        usages.append("serverAuth")
    if client:
        usages.append("clientAuth")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n")
        f.write("keyUsage=critical,digitalSignature,keyEncipherment\n")
        f.write("extendedKeyUsage=%s\n" % ",".join(usages))
        if sans:
            f.write("subjectAltName=%s\n" % ",".join(sans))
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", subj)
    _openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
             "-out", crt, "-days", "3650", "-extfile", ext)
    os.remove(csr)
    os.remove(ext)
    return key, crt


def cluster_pki(pki_dir):
    """Everything one cluster needs; returns a dict of paths."""
    os.makedirs(pki_dir, exist_ok=True)
    ca_key, ca_crt = ca(pki_dir, "ca", "kubesim-ca")
    sans = ["IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default.svc"]
    srv_key, srv_crt = leaf(pki_dir, "serving", ca_key, ca_crt, "kube-apiserver", sans=sans, server=True)
    fp_key, fp_crt = ca(pki_dir, "front-proxy-ca", "kubesim-front-proxy-ca")
    fpc_key, fpc_crt = leaf(pki_dir, "front-proxy-client", fp_key, fp_crt, "kubesim-proxy", client=True)
    kl_key, kl_crt = leaf(pki_dir, "kubelet", ca_key, ca_crt, "kubesim-kubelet", sans=["IP:127.0.0.1"],
                          server=True)
    # KubeVirt's own CA (kubevirt-ca), named after the cluster's folder
    kv_key, kv_crt = ca(pki_dir, "kubevirt-ca", "kubevirt.io@" + os.path.basename(os.path.dirname(pki_dir)))
    sa_key = os.path.join(pki_dir, "sa.key")
    sa_pub = os.path.join(pki_dir, "sa.pub")
    rsa_key(sa_key)
    if not os.path.exists(sa_pub):
        _openssl("pkey", "-in", sa_key, "-pubout", "-out", sa_pub)
    return {
        "ca_key": ca_key, "ca_crt": ca_crt, "serving_key": srv_key, "serving_crt": srv_crt,
        "front_proxy_ca_crt": fp_crt, "front_proxy_client_key": fpc_key,
        "front_proxy_client_crt": fpc_crt, "kubelet_key": kl_key, "kubelet_crt": kl_crt,
        "sa_key": sa_key, "sa_pub": sa_pub, "kubevirt_ca_crt": kv_crt, "kubevirt_ca_key": kv_key,
    }


def client_cert(pki_dir, name, user, groups):
    """A client certificate for USER; each group becomes an O= entry."""
    ca_key, ca_crt = os.path.join(pki_dir, "ca.key"), os.path.join(pki_dir, "ca.crt")
    return leaf(pki_dir, name, ca_key, ca_crt, user, orgs=groups, client=True)


def ingress_pki(pki_dir):
    """The cluster's ingress CA (OpenShift's ingress operator makes one per
    cluster and publishes it as ConfigMap openshift-config-managed/
    default-ingress-cert) and the router's serving certificate for
    127.0.0.1, signed by it. Returns a dict of paths."""
    cluster = os.path.basename(os.path.dirname(pki_dir))
    ca_key, ca_crt = ca(pki_dir, "ingress-ca", "ingress-operator@kubesim-" + cluster)
    key, crt = leaf(pki_dir, "ingress-serving", ca_key, ca_crt, "*.apps.%s.kubesim" % cluster,
                    sans=["IP:127.0.0.1"], server=True)
    return {"ingress_ca_key": ca_key, "ingress_ca_crt": ca_crt, "ingress_serving_key": key,
            "ingress_serving_crt": crt}


def webhook_pki(pki_dir, cluster_name):
    """The simulated virt-api's own CA (the webhook configurations' caBundle)
    and its serving certificate for 127.0.0.1; made once per cluster."""
    os.makedirs(pki_dir, exist_ok=True)
    ca_key, ca_crt = ca(pki_dir, "virt-api-ca", "kubevirt.io@virt-api-" + cluster_name)
    key, crt = leaf(pki_dir, "virt-api", ca_key, ca_crt, "virt-api.openshift-cnv.svc",
                    sans=["IP:127.0.0.1", "DNS:virt-api.openshift-cnv.svc"], server=True)
    return {"ca_crt": ca_crt, "crt": crt, "key": key}
