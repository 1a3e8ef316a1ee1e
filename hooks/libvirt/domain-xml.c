/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Domain XML parsing with libxml2, for the libvirt hook. The document comes
 * from libvirtd, but it is still input: no network, no DTD loading, no
 * entity expansion, and every value is range-checked before anything is
 * sent to rvmsid.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cpulist.h"
#include "domain-xml.h"
#include "strv.h"

#define MAX_VCPUS 1024

DomainInfo *domain_info_free(DomainInfo *d) {
        if (!d)
                return NULL;
        free(d->name);
        for (size_t i = 0; i < d->n_pins; i++)
                free(d->pins[i].cpus);
        free(d->pins);
        free(d->hostdevs);
        return mfree(d);
}

static void xml_docp(xmlDoc **d) {
        if (*d)
                xmlFreeDoc(*d);
}

static void xml_freep(xmlChar **s) {
        if (*s)
                xmlFree(*s);
}
#define _cleanup_xml_ _cleanup_(xml_freep)

_printf_(3, 4)
static int fail(char *errbuf, size_t errlen, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static bool is_element(const xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name) &&
                /* libvirt's own elements have no namespace */
                !n->ns;
}

static xmlNode *child(const xmlNode *parent, const char *name) {
        for (xmlNode *n = parent->children; n; n = n->next)
                if (is_element(n, name))
                        return n;
        return NULL;
}

static char *attr(const xmlNode *n, const char *name) {
        return (char *) xmlGetNoNsProp((xmlNode *) n, BAD_CAST name);
}

/* Text content with surrounding white space removed; NULL if empty. */
static char *text(const xmlNode *n) {
        xmlChar *c = xmlNodeGetContent((xmlNode *) n);
        char *s, *e;

        if (!c)
                return NULL;
        s = (char *) c;
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
                e--;
        *e = 0;
        if (!*s) {
                xmlFree(c);
                return NULL;
        }
        memmove(c, s, strlen(s) + 1);
        return (char *) c;
}

static int parse_uint(const char *s, int base, unsigned long max, unsigned long *ret) {
        unsigned long v;
        char *end;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, base);
        if (errno != 0 || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_pci(const xmlNode *addr, char ret[static 13], char *errbuf, size_t errlen, int line) {
        static const struct {
                const char *name;
                unsigned long max;
        } parts[] = {
                { "domain", 0xffff }, { "bus", 0xff }, { "slot", 0x1f }, { "function", 0x7 },
        };
        unsigned long v[4];

        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                _cleanup_xml_ xmlChar *s = (xmlChar *) attr(addr, parts[i].name);

                if (!s)
                        return fail(errbuf, errlen, "line %d: PCI <address> without '%s'", line, parts[i].name);
                /* libvirt writes PCI address parts as 0x..; decimal is accepted too */
                if (parse_uint((char *) s, 0, parts[i].max, &v[i]) < 0)
                        return fail(errbuf, errlen, "line %d: PCI <address> %s='%s' is not a number in 0-%#lx",
                                    line, parts[i].name, (char *) s, parts[i].max);
        }
        snprintf(ret, 13, "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
        return 0;
}

static int add_hostdev(DomainInfo *d, const char *pci, bool iommufd, bool interface, char *errbuf, size_t errlen,
                       int line) {
        DomainHostdev *h;

        for (size_t i = 0; i < d->n_hostdevs; i++)
                if (streq(d->hostdevs[i].pci, pci))
                        return fail(errbuf, errlen, "line %d: PCI device %s is assigned twice", line, pci);
        h = realloc(d->hostdevs, (d->n_hostdevs + 1) * sizeof(DomainHostdev));
        if (!h)
                return -ENOMEM;
        d->hostdevs = h;
        h = &d->hostdevs[d->n_hostdevs++];
        *h = (DomainHostdev) { .iommufd = iommufd, .interface = interface };
        memcpy(h->pci, pci, sizeof(h->pci));
        return 0;
}

/* <hostdev mode='subsystem' type='pci'> and <interface type='hostdev'> (SR-IOV VFs). */
static int parse_devices(DomainInfo *d, const xmlNode *devices, char *errbuf, size_t errlen) {
        int r;

        for (xmlNode *n = devices->children; n; n = n->next) {
                _cleanup_xml_ xmlChar *mode = NULL, *type = NULL, *iommufd = NULL;
                bool is_iface = is_element(n, "interface");
                xmlNode *source, *address, *driver;
                char pci[13];
                int line = (int) xmlGetLineNo(n);

                if (!is_element(n, "hostdev") && !is_iface)
                        continue;
                type = (xmlChar *) attr(n, "type");
                if (is_iface) {
                        if (!type || !xmlStrEqual(type, BAD_CAST "hostdev"))
                                continue;
                } else {
                        mode = (xmlChar *) attr(n, "mode");
                        /* mode defaults to subsystem; USB, SCSI, mdev and caps hostdevs are not ours */
                        if (mode && !xmlStrEqual(mode, BAD_CAST "subsystem"))
                                continue;
                        if (!type || !xmlStrEqual(type, BAD_CAST "pci"))
                                continue;
                }
                source = child(n, "source");
                address = source ? child(source, "address") : NULL;
                if (!address)
                        return fail(errbuf, errlen, "line %d: PCI <%s> without <source><address>", line,
                                    is_iface ? "interface type='hostdev'" : "hostdev");
                if (is_iface) {
                        _cleanup_xml_ xmlChar *atype = (xmlChar *) attr(address, "type");

                        if (atype && !xmlStrEqual(atype, BAD_CAST "pci"))
                                continue;       /* a USB or other address: not a PCI function */
                }
                r = parse_pci(address, pci, errbuf, errlen, (int) xmlGetLineNo(address));
                if (r < 0)
                        return r;
                driver = child(n, "driver");
                if (driver)
                        iommufd = (xmlChar *) attr(driver, "iommufd");
                if (iommufd && !xmlStrEqual(iommufd, BAD_CAST "yes") && !xmlStrEqual(iommufd, BAD_CAST "no"))
                        return fail(errbuf, errlen, "line %d: <driver iommufd='%s'> is neither yes nor no", line,
                                    (char *) iommufd);
                r = add_hostdev(d, pci, iommufd && xmlStrEqual(iommufd, BAD_CAST "yes"), is_iface, errbuf, errlen,
                                line);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_pin(DomainInfo *d, uint32_t vcpu, const char *cpuset, char *errbuf, size_t errlen, int line) {
        uint32_t *cpus = NULL;
        DomainPin *p;
        int n;

        n = cpulist_parse(cpuset, &cpus);
        if (n == -ENOMEM)
                return n;
        if (n <= 0)
                return fail(errbuf, errlen, "line %d: cpuset '%s' is not a CPU list with at least one CPU", line,
                            cpuset);
        p = realloc(d->pins, (d->n_pins + 1) * sizeof(DomainPin));
        if (!p) {
                free(cpus);
                return -ENOMEM;
        }
        d->pins = p;
        d->pins[d->n_pins++] = (DomainPin) { .vcpu = vcpu, .cpus = cpus, .n_cpus = (size_t) n };
        return 0;
}

static int cmp_pin(const void *a, const void *b) {
        const DomainPin *x = a, *y = b;

        return CMP(x->vcpu, y->vcpu);
}

/* <vcpu cpuset=> is every vCPU's default; <cputune><vcpupin> overrides it per vCPU. */
static int parse_pinning(DomainInfo *d, const xmlNode *vcpu, const xmlNode *cputune, char *errbuf, size_t errlen) {
        _cleanup_xml_ xmlChar *placement = (xmlChar *) attr(vcpu, "placement");
        _cleanup_xml_ xmlChar *def = (xmlChar *) attr(vcpu, "cpuset");
        _cleanup_free_ bool *pinned = NULL;
        int r;

        pinned = calloc(d->vcpus, sizeof(bool));
        if (!pinned)
                return -ENOMEM;

        for (xmlNode *n = cputune ? cputune->children : NULL; n; n = n->next) {
                _cleanup_xml_ xmlChar *v = NULL, *cpuset = NULL;
                unsigned long vc;
                int line = (int) xmlGetLineNo(n);

                if (!is_element(n, "vcpupin"))
                        continue;
                v = (xmlChar *) attr(n, "vcpu");
                cpuset = (xmlChar *) attr(n, "cpuset");
                if (!v || parse_uint((char *) v, 10, UINT32_MAX, &vc) < 0)
                        return fail(errbuf, errlen, "line %d: <vcpupin> without a valid vcpu=", line);
                if (vc >= d->vcpus)
                        return fail(errbuf, errlen, "line %d: <vcpupin vcpu='%lu'> but the domain has %u vCPUs",
                                    line, vc, d->vcpus);
                if (pinned[vc])
                        return fail(errbuf, errlen, "line %d: vCPU %lu is pinned twice", line, vc);
                if (!cpuset)
                        return fail(errbuf, errlen, "line %d: <vcpupin vcpu='%lu'> without cpuset=", line, vc);
                pinned[vc] = true;
                r = add_pin(d, (uint32_t) vc, (char *) cpuset, errbuf, errlen, line);
                if (r < 0)
                        return r;
        }

        /* With placement='auto' numad decides and libvirt ignores cpuset=. */
        if (def && !(placement && xmlStrEqual(placement, BAD_CAST "auto")))
                for (uint32_t v = 0; v < d->vcpus; v++) {
                        if (pinned[v])
                                continue;
                        r = add_pin(d, v, (char *) def, errbuf, errlen, (int) xmlGetLineNo((xmlNode *) vcpu));
                        if (r < 0)
                                return r;
                }

        if (d->n_pins > 1)
                qsort(d->pins, d->n_pins, sizeof(DomainPin), cmp_pin);
        return 0;
}

static int parse_metadata(DomainInfo *d, const xmlNode *metadata, char *errbuf, size_t errlen) {
        for (xmlNode *n = metadata->children; n; n = n->next) {
                _cleanup_xml_ xmlChar *klass = NULL, *prio = NULL;
                int line = (int) xmlGetLineNo(n);

                if (n->type != XML_ELEMENT_NODE || !n->ns || !xmlStrEqual(n->ns->href, BAD_CAST RVMSI_XMLNS))
                        continue;
                if (!xmlStrEqual(n->name, BAD_CAST "policy"))
                        return fail(errbuf, errlen, "line %d: unknown element <%s> in the rvmsi namespace "
                                    "(only <policy>)", line, (char *) n->name);
                if (d->has_policy)
                        return fail(errbuf, errlen, "line %d: more than one rvmsi <policy> element", line);
                d->has_policy = true;

                klass = xmlGetNoNsProp(n, BAD_CAST "class");
                if (klass) {
                        if (!xmlStrEqual(klass, BAD_CAST "strict") && !xmlStrEqual(klass, BAD_CAST "balanced") &&
                            !xmlStrEqual(klass, BAD_CAST "performance"))
                                return fail(errbuf, errlen, "line %d: rvmsi class='%s' is not strict, balanced "
                                            "or performance", line, (char *) klass);
                        snprintf(d->klass, sizeof(d->klass), "%s", (char *) klass);
                }
                prio = xmlGetNoNsProp(n, BAD_CAST "priority");
                if (prio) {
                        char *end;
                        long p;

                        errno = 0;
                        p = strtol((char *) prio, &end, 10);
                        if (errno != 0 || end == (char *) prio || *end || p < -1000 || p > 1000)
                                return fail(errbuf, errlen, "line %d: rvmsi priority='%s' is not an integer in "
                                            "-1000-1000", line, (char *) prio);
                        d->priority = (int32_t) p;
                }
                for (xmlAttr *a = n->properties; a; a = a->next)
                        if (!xmlStrEqual(a->name, BAD_CAST "class") && !xmlStrEqual(a->name, BAD_CAST "priority"))
                                return fail(errbuf, errlen, "line %d: unknown attribute '%s' on rvmsi <policy>",
                                            line, (char *) a->name);
        }
        return 0;
}

int domain_parse(const char *xml, size_t len, DomainInfo **ret, char *errbuf, size_t errlen) {
        _cleanup_(domain_info_freep) DomainInfo *d = NULL;
        _cleanup_(xml_docp) xmlDoc *doc = NULL;
        _cleanup_free_ char *uuid = NULL, *vcpus = NULL;
        xmlNode *root, *n, *vcpu;
        unsigned long v;
        int r;

        if (len == 0)
                return fail(errbuf, errlen, "no domain XML on standard input");
        if (len > INT32_MAX)
                return fail(errbuf, errlen, "domain XML too large");

        /* No network, no DTD, no entity substitution: the defaults plus NONET. */
        doc = xmlReadMemory(xml, (int) len, "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlGetLastError();

                if (e && e->message) {
                        char msg[256];
                        size_t k;

                        snprintf(msg, sizeof(msg), "%s", e->message);
                        k = strlen(msg);
                        while (k > 0 && (msg[k - 1] == '\n' || msg[k - 1] == ' '))
                                msg[--k] = 0;
                        return fail(errbuf, errlen, "not well-formed XML (line %d): %s", e->line, msg);
                }
                return fail(errbuf, errlen, "not well-formed XML");
        }
        root = xmlDocGetRootElement(doc);
        if (!root || !is_element(root, "domain"))
                return fail(errbuf, errlen, "the document is not a <domain>");

        d = new0(DomainInfo, 1);
        if (!d)
                return -ENOMEM;

        n = child(root, "name");
        d->name = n ? text(n) : NULL;
        if (!d->name)
                return fail(errbuf, errlen, "<domain> without <name>");

        n = child(root, "uuid");
        uuid = n ? text(n) : NULL;
        if (!uuid)
                return fail(errbuf, errlen, "<domain> without <uuid>");
        if (uuid_normalize(uuid, d->uuid) < 0)
                return fail(errbuf, errlen, "line %d: <uuid> '%s' is not a UUID", (int) xmlGetLineNo(n), uuid);

        vcpu = child(root, "vcpu");
        vcpus = vcpu ? text(vcpu) : NULL;
        if (!vcpus)
                return fail(errbuf, errlen, "<domain> without <vcpu>");
        if (parse_uint(vcpus, 10, MAX_VCPUS, &v) < 0 || v == 0)
                return fail(errbuf, errlen, "line %d: <vcpu> '%s' is not a count in 1-%d", (int) xmlGetLineNo(vcpu),
                            vcpus, MAX_VCPUS);
        d->vcpus = (uint32_t) v;

        r = parse_pinning(d, vcpu, child(root, "cputune"), errbuf, errlen);
        if (r < 0)
                return r;

        n = child(root, "devices");
        if (n) {
                r = parse_devices(d, n, errbuf, errlen);
                if (r < 0)
                        return r;
        }

        n = child(root, "metadata");
        if (n) {
                r = parse_metadata(d, n, errbuf, errlen);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(d);
        return 0;
}
