/* guest_probe: /init of the passthru kernel harness initramfs.
 *
 * Loads the VFIO modules, binds one PCI device to vfio-pci, reports the IOMMU group's
 * reserved regions, then does the type1 container sequence and a few MAP/UNMAP vectors
 * (SEMANTICS A13, E1, N), then dirty tracking on a second v2 container and the v1 rules
 * with a lowered entry limit on a third (SEMANTICS B10, C2-C10, D1-D7). Every result line is "PROBE key=value ..."; the last is
 * "PROBE done". Then the guest powers off.
 *
 * Kernel command line parameters read (from /proc/cmdline):
 *   probe.pciid=VVVV:DDDD   PCI vendor:device to pass through (default 1234:11e8, QEMU edu)
 *   probe.unsafe=1          load vfio_iommu_type1 with allow_unsafe_interrupts=1
 *   probe.retry_unsafe=0    do not retry SET_IOMMU after EPERM with the parameter set at
 *                           run time (default 1: retry, reported as set_iommu_retry_unsafe)
 *
 * Build: gcc -static -O2 -o init guest_probe.c (aarch64-linux-gnu-gcc for arm64).
 * Written for the passthru project; uses only the kernel uapi headers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/reboot.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef VFIO_UPDATE_VADDR
#define VFIO_UPDATE_VADDR 10
#endif
#ifndef VFIO_DMA_MAP_FLAG_VADDR
#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)
#endif

static char cmdline[4096];
static char pci_addr[64];
static int unsafe_param, retry_unsafe = 1;
static unsigned pci_vendor = 0x1234, pci_device = 0x11e8;

static void out(const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    /* one write per line so kernel messages do not split it */
    ssize_t w = write(1, "PROBE ", 6);
    w = write(1, buf, n);
    (void)w;
}

static const char *ename(int e) {
    static char buf[32];
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENOTTY: return "ENOTTY";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EADDRINUSE: return "EADDRINUSE";
    case ENOEXEC: return "ENOEXEC";
    case EKEYREJECTED: return "EKEYREJECTED";
    }
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

static int read_file(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0) { int e = errno; close(fd); return -e; }
        if (r == 0) break;
        got += (size_t)r;
    }
    buf[got] = 0;
    close(fd);
    return (int)got;
}

static int write_file(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t w = write(fd, s, strlen(s));
    int e = w < 0 ? errno : 0;
    close(fd);
    return e;
}

static void chomp(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
}

static const char *param(const char *key) { /* value of key= in cmdline, or NULL */
    static char val[256];
    size_t kl = strlen(key);
    for (const char *p = cmdline; (p = strstr(p, key)); p += kl) {
        if ((p == cmdline || p[-1] == ' ') && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t n = strcspn(v, " \n");
            if (n >= sizeof val) n = sizeof val - 1;
            memcpy(val, v, n);
            val[n] = 0;
            return val;
        }
    }
    return NULL;
}

static double uptime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- environment -------------------------------------------------------------------- */

static void setup_fs(void) {
    mkdir("/proc", 0755);
    mkdir("/sys", 0755);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    if (fcntl(1, F_GETFD) < 0) {
        int fd = open("/dev/console", O_RDWR);
        if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
    }
    /* keep console=quiet-ish: kernel messages at warning and below go to the log only */
    write_file("/proc/sys/kernel/printk", "3 4 1 3");
}

/* What a host check can read before VFIO is involved: the IOMMUs in /sys/class/iommu
 * and the distinct irq chips of /sys/kernel/irq/<n>/chip_name (IR-IO-APIC says x86
 * interrupt remapping is on). Each a sorted, comma-joined set, so the line does not
 * change between boots. (Debian's kernels have no irq debugfs to list MSI domains.) */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void report_names(const char *what, const char *dir, const char *file) {
    static char names[256][256];
    char *sorted[256];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) { out("host %s=-", what); return; }
    for (struct dirent *e; (e = readdir(d)) && n < 256;) {
        if (e->d_name[0] == '.') continue;
        char name[256] = "";
        if (file) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s/%s", dir, e->d_name, file);
            if (read_file(p, name, sizeof name) <= 0) continue;
            chomp(name);
        } else {
            snprintf(name, sizeof name, "%s", e->d_name);
        }
        int dup = 0;
        for (int i = 0; i < n && !dup; i++) dup = strcmp(names[i], name) == 0;
        if (!dup) { snprintf(names[n], sizeof names[n], "%s", name); sorted[n] = names[n]; n++; }
    }
    closedir(d);
    qsort(sorted, n, sizeof *sorted, cmp_str);
    char line[4096];
    size_t o = 0;
    line[0] = 0;
    for (int i = 0; i < n && o + 130 < sizeof line; i++) o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? "," : "", sorted[i]);
    out("host %s=%s", what, n ? line : "-");
}

/* Device-tree nodes with an msi-controller property, by compatible (arm,gic-v3-its,
 * arm,gic-v2m-frame): where an ARM host says which MSI controller it has. */
static void dt_msi(const char *dir, int depth, char *line, size_t cap, size_t *o) {
    char p[512];
    snprintf(p, sizeof p, "%s/msi-controller", dir);
    struct stat st;
    if (stat(p, &st) == 0) {
        char c[128] = "";
        snprintf(p, sizeof p, "%s/compatible", dir);
        if (read_file(p, c, sizeof c) > 0 && *o + strlen(c) + 2 < cap && !strstr(line, c))
            *o += (size_t)snprintf(line + *o, cap - *o, "%s%s", *o ? "," : "", c);
    }
    if (depth == 0) return;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        dt_msi(p, depth - 1, line, cap, o);
    }
    closedir(d);
}

static void report_host(void) {
    report_names("iommu_class", "/sys/class/iommu", NULL);
    /* VT-d's capability registers: the address width (MGAW) and snoop control (SC). */
    char cap[64] = "", ecap[64] = "";
    if (read_file("/sys/class/iommu/dmar0/intel-iommu/cap", cap, sizeof cap) > 0 &&
        read_file("/sys/class/iommu/dmar0/intel-iommu/ecap", ecap, sizeof ecap) > 0) {
        chomp(cap);
        chomp(ecap);
        out("host vtd_cap=%s vtd_ecap=%s", cap, ecap);
    }
    report_names("irq_chips", "/sys/kernel/irq", "chip_name");
    char line[1024] = "";
    size_t o = 0;
    dt_msi("/proc/device-tree", 3, line, sizeof line, &o);
    out("host dt_msi_controllers=%s", o ? line : "-");
}

static void report_system(void) {
    struct utsname u;
    uname(&u);
    out("uname_release=%s", u.release);
    out("uname_version=%s", u.version);
    out("uname_machine=%s", u.machine);
    out("cmdline=%s", cmdline);
}

static void load_modules(void) {
    char order[4096];
    if (read_file("/modules/order", order, sizeof order) < 0) {
        out("modules_order=missing");
        return;
    }
    for (char *save = NULL, *name = strtok_r(order, "\n", &save); name;
         name = strtok_r(NULL, "\n", &save)) {
        char path[256];
        snprintf(path, sizeof path, "/modules/%s", name);
        const char *params = "";
        if (unsafe_param && strncmp(name, "vfio_iommu_type1", 16) == 0)
            params = "allow_unsafe_interrupts=1";
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { out("module=%s errno=%s open", name, ename(errno)); continue; }
        long r = syscall(SYS_finit_module, fd, params, 0);
        int e = r < 0 ? errno : 0;
        close(fd);
        out("module=%s params=%s errno=%s", name, *params ? params : "-", ename(e));
    }
    char v[32];
    if (read_file("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", v, sizeof v) > 0) {
        chomp(v);
        out("param allow_unsafe_interrupts=%s", v);
    }
}

static int find_device(void) {
    double until = uptime() + 30;
    do {
        DIR *d = opendir("/sys/bus/pci/devices");
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char p[512], b[32];
            unsigned ven = 0, dev = 0;
            snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/vendor", de->d_name);
            if (read_file(p, b, sizeof b) > 0) ven = (unsigned)strtoul(b, NULL, 16);
            snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/device", de->d_name);
            if (read_file(p, b, sizeof b) > 0) dev = (unsigned)strtoul(b, NULL, 16);
            if (ven == pci_vendor && dev == pci_device) {
                snprintf(pci_addr, sizeof pci_addr, "%.63s", de->d_name);
                closedir(d);
                return 0;
            }
        }
        if (d) closedir(d);
        sleep_ms(200);
    } while (uptime() < until);
    return -1;
}

static void list_pci(void) {
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[512], ven[16] = "", dev[16] = "", cls[16] = "", grp[256] = "", drv[256] = "";
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/vendor", de->d_name);
        read_file(p, ven, sizeof ven); chomp(ven);
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/device", de->d_name);
        read_file(p, dev, sizeof dev); chomp(dev);
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/class", de->d_name);
        read_file(p, cls, sizeof cls); chomp(cls);
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/iommu_group", de->d_name);
        ssize_t n = readlink(p, grp, sizeof grp - 1);
        grp[n > 0 ? n : 0] = 0;
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver", de->d_name);
        n = readlink(p, drv, sizeof drv - 1);
        drv[n > 0 ? n : 0] = 0;
        const char *g = strrchr(grp, '/'), *dr = strrchr(drv, '/');
        out("pci dev=%s id=%s:%s class=%s group=%s driver=%s", de->d_name, ven + 2, dev + 2, cls,
            g ? g + 1 : "none", dr ? dr + 1 : "none");
    }
    if (d) closedir(d);
}

static void report_group(const char *group) {
    char p[512], buf[8192];
    snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/type", group);
    if (read_file(p, buf, sizeof buf) > 0) { chomp(buf); out("group_type=%s", buf); }
    snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/devices", group);
    DIR *d = opendir(p);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') out("group_device=%s", de->d_name);
    if (d) closedir(d);
    snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/reserved_regions", group);
    int n = read_file(p, buf, sizeof buf);
    if (n < 0) { out("reserved_regions errno=%s", ename(-n)); return; }
    int count = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long s, e;
        char type[64];
        if (sscanf(l, "%llx %llx %63s", &s, &e, type) == 3)
            out("resv_region start=0x%llx end=0x%llx type=%s", s, e, type);
        else
            out("resv_region raw=%s", l);
        count++;
    }
    out("resv_region_count=%d", count);
}

/* Every group's reserved regions, to see the type strings other devices get. */
static void report_all_groups(void) {
    DIR *d = opendir("/sys/kernel/iommu_groups");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[512], b[4096];
        snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/reserved_regions", de->d_name);
        if (read_file(p, b, sizeof b) < 0) continue;
        for (char *save = NULL, *l = strtok_r(b, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            out("all_groups group=%s region=%s", de->d_name, l);
    }
    if (d) closedir(d);
}

static int bind_vfio(void) {
    char p[512], drv[256];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver_override", pci_addr);
    int e = write_file(p, "vfio-pci");
    out("driver_override errno=%s", ename(e));
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver", pci_addr);
    ssize_t n = readlink(p, drv, sizeof drv - 1);
    if (n > 0) {
        drv[n] = 0;
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver/unbind", pci_addr);
        e = write_file(p, pci_addr);
        out("unbind from=%s errno=%s", strrchr(drv, '/') + 1, ename(e));
    }
    e = write_file("/sys/bus/pci/drivers/vfio-pci/bind", pci_addr);
    out("bind driver=vfio-pci errno=%s", ename(e));
    return e;
}

/* ---- VFIO ----------------------------------------------------------------------------- */

static int container = -1, groupfd = -1;
static void *buf;
static const size_t buf_len = 4 << 20;

static uint64_t last_iova_end; /* inclusive end of the highest usable IOVA range */

static void get_info(const char *tag) {
    struct vfio_iommu_type1_info probe = {.argsz = sizeof probe};
    if (ioctl(container, VFIO_IOMMU_GET_INFO, &probe)) {
        out("get_info tag=%s errno=%s", tag, ename(errno));
        return;
    }
    uint32_t need = probe.argsz;
    struct vfio_iommu_type1_info *info = calloc(1, need + 64);
    info->argsz = need;
    if (ioctl(container, VFIO_IOMMU_GET_INFO, info)) {
        out("get_info tag=%s errno=%s", tag, ename(errno));
        free(info);
        return;
    }
    out("get_info tag=%s errno=0 flags=0x%x argsz=%u cap_offset=%u iova_pgsizes=0x%llx", tag,
        info->flags, need, info->cap_offset, (unsigned long long)info->iova_pgsizes);
    uint32_t off = (info->flags & VFIO_IOMMU_INFO_CAPS) ? info->cap_offset : 0;
    int guard = 0;
    while (off && off + sizeof(struct vfio_info_cap_header) <= need && guard++ < 16) {
        struct vfio_info_cap_header *h = (void *)((char *)info + off);
        out("cap tag=%s offset=%u id=%u version=%u next=%u", tag, off, h->id, h->version, h->next);
        if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
            struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;
            out("iova_ranges tag=%s nr=%u", tag, r->nr_iovas);
            for (uint32_t i = 0; i < r->nr_iovas; i++) {
                out("iova_range tag=%s start=0x%llx end=0x%llx", tag,
                    (unsigned long long)r->iova_ranges[i].start,
                    (unsigned long long)r->iova_ranges[i].end);
                last_iova_end = r->iova_ranges[i].end;
            }
        } else if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION) {
            struct vfio_iommu_type1_info_cap_migration *m = (void *)h;
            out("cap_migration tag=%s flags=0x%x pgsize_bitmap=0x%llx max_dirty_bitmap_size=0x%llx",
                tag, m->flags, (unsigned long long)m->pgsize_bitmap,
                (unsigned long long)m->max_dirty_bitmap_size);
        } else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
            struct vfio_iommu_type1_info_dma_avail *a = (void *)h;
            out("cap_dma_avail tag=%s avail=%u", tag, a->avail);
        }
        off = h->next;
    }
    free(info);
}

static int vec_no;

static void map_vec(const char *what, uint64_t iova, uint64_t size, uint32_t flags,
                    int expect, void *vaddr) {
    struct vfio_iommu_type1_dma_map m = {.argsz = sizeof m, .flags = flags,
                                         .vaddr = (uintptr_t)vaddr, .iova = iova, .size = size};
    int e = ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? errno : 0;
    out("vec=%d op=map what=%s iova=0x%llx size=0x%llx flags=0x%x errno=%s expect=%s%s", ++vec_no,
        what, (unsigned long long)iova, (unsigned long long)size, flags, ename(e), ename(expect),
        e == expect ? "" : " MISMATCH");
}

static void unmap_vec(const char *what, uint64_t iova, uint64_t size, uint32_t flags,
                      int expect, long long expect_size) {
    struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof u, .flags = flags, .iova = iova,
                                           .size = size};
    int e = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) ? errno : 0;
    int bad = e != expect || (e == 0 && expect_size >= 0 && (long long)u.size != expect_size);
    out("vec=%d op=unmap what=%s iova=0x%llx size=0x%llx flags=0x%x errno=%s unmapped=0x%llx "
        "expect=%s expect_unmapped=0x%llx%s",
        ++vec_no, what, (unsigned long long)iova, (unsigned long long)size, flags, ename(e),
        e ? 0ULL : (unsigned long long)u.size, ename(expect),
        (unsigned long long)(expect_size < 0 ? 0 : expect_size), bad ? " MISMATCH" : "");
}

static void dma_vectors(int is_x86) {
    const uint32_t RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    char *b = buf;
    /* SEMANTICS N1..N16 (numbers in `what`) */
    map_vec("N1", 0x1000, 0x1000, RW, 0, b);
    get_info("after_N1");
    map_vec("N2_same", 0x1000, 0x1000, RW, EEXIST, b);
    map_vec("N3_misaligned_iova", 0x1800, 0x1000, RW, EINVAL, b);
    map_vec("N4_size0", 0x2000, 0, RW, EINVAL, b);
    map_vec("N5_flags0", 0x2000, 0x1000, 0, EINVAL, b);
    map_vec("N6_read_vaddr", 0x2000, 0x1000, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR,
            EINVAL, b);
    if (is_x86) {
        map_vec("N7_msi_window", 0xFEE00000, 0x1000, RW, EINVAL, b);
        map_vec("N8_span_msi_edge", 0xFEDFF000, 0x2000, RW, EINVAL, b);
    } else {
        map_vec("N7_sw_msi_window", 0x8000000, 0x1000, RW, EINVAL, b);
        map_vec("N8_span_sw_msi_edge", 0x7FFF000, 0x2000, RW, EINVAL, b);
    }
    map_vec("N10_wrap", 0xFFFFFFFFFFFFF000ULL, 0x2000, RW, EINVAL, b);
    unmap_vec("N11_half_page", 0x1000, 0x800, 0, EINVAL, -1);
    unmap_vec("N12_covering", 0, 0x10000, 0, 0, 0x1000);
    unmap_vec("N13_empty", 0, 0x10000, 0, 0, 0);
    map_vec("N14_map", 0x10000, 0x4000, RW, 0, b);
    unmap_vec("N14_unmap_inside", 0x11000, 0x1000, 0, EINVAL, -1);
    unmap_vec("N15_unmap_front_overlap", 0xF000, 0x2000, 0, EINVAL, -1);
    unmap_vec("N16_all_with_iova", 0x1000, 0, VFIO_DMA_UNMAP_FLAG_ALL, EINVAL, -1);
    unmap_vec("unmap_all", 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0x4000);
    /* a 2 MiB-aligned 2 MiB map (superpage candidate) */
    char *big = (char *)(((uintptr_t)b + 0x1FFFFF) & ~(uintptr_t)0x1FFFFF);
    map_vec("map_2M", 0x200000, 0x200000, RW, 0, big);
    unmap_vec("unmap_2M_first_4K", 0x200000, 0x1000, 0, EINVAL, -1);
    unmap_vec("unmap_2M", 0x200000, 0x200000, 0, 0, 0x200000);

    /* End of the usable IOVA space (SEMANTICS B8, L map_limit, M late-2025 row). The
     * expectations are the post-2025 ones (L.map_limit.unmap_range / unmap_all). Where the
     * aperture ends at 2^64-1 (AMD-Vi v1), a mapping of the last page ends exactly at 2^64. */
    if (last_iova_end) {
        uint64_t last_page = last_iova_end + 1 - 0x1000;
        if (last_iova_end != UINT64_MAX)
            map_vec("N9_beyond_aperture", last_iova_end + 1, 0x1000, RW, EINVAL, b);
        map_vec("E1_map_last_page", last_page, 0x1000, RW, 0, b);
        unmap_vec("E2_unmap_last_page", last_page, 0x1000, 0, 0, 0x1000);
        map_vec("E3_map_last_page_again", last_page, 0x1000, RW, 0, b);
        map_vec("E4_map_low", 0x10000, 0x4000, RW, 0, b);
        unmap_vec("E5_unmap_all", 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0x5000);
        unmap_vec("E6_unmap_low_again", 0x10000, 0x4000, 0, 0, 0);
        unmap_vec("E7_unmap_last_page_again", last_page, 0x1000, 0, 0, 0);
    }
}

/* ---- dirty tracking, v1 and the entry limit, on fresh containers ---------------------- */

/* The user bitmap of GET_BITMAP and of UNMAP with GET_DIRTY_BITMAP: 4 KiB, of which a
 * vector prints the first `nwords` words before and after the call. */
static uint64_t user_bits[512];

static void words_str(char *s, size_t cap, unsigned nwords) {
    size_t o = 0;
    s[0] = 0;
    for (unsigned i = 0; i < nwords && o + 24 < cap; i++)
        o += (size_t)snprintf(s + o, cap - o, "%s0x%llx", i ? "," : "", (unsigned long long)user_bits[i]);
}

enum { words_str_len = 512 };

/* `req` on the container with the user bitmap set to `in` (zero beyond it), the first
 * `nwords` words written to `before` and `after` the call; returns the errno. */
static int bitmap_ioctl(unsigned long req, void *arg, const uint64_t *in, unsigned nwords,
                        char before[words_str_len], char after[words_str_len]) {
    memset(user_bits, 0, sizeof user_bits);
    if (in) memcpy(user_bits, in, nwords * sizeof *in);
    words_str(before, words_str_len, nwords);
    int e = ioctl(container, req, arg) ? errno : 0;
    words_str(after, words_str_len, nwords);
    return e;
}

/* VFIO_IOMMU_DIRTY_PAGES: START/STOP/GET_BITMAP, or any flags (SEMANTICS D1-D7). */
static void dirty_vec(const char *what, uint32_t flags, uint32_t argsz, uint64_t iova, uint64_t size,
                      uint64_t pgsize, uint64_t bm_size, const uint64_t *in, unsigned nwords, int expect) {
    char arg[sizeof(struct vfio_iommu_type1_dirty_bitmap) + sizeof(struct vfio_iommu_type1_dirty_bitmap_get)];
    struct vfio_iommu_type1_dirty_bitmap h = {.argsz = argsz, .flags = flags};
    struct vfio_iommu_type1_dirty_bitmap_get g = {
        .iova = iova, .size = size,
        .bitmap = {.pgsize = pgsize, .size = bm_size, .data = (__u64 *)user_bits}};
    memcpy(arg, &h, sizeof h);
    memcpy(arg + sizeof h, &g, sizeof g);
    char before[words_str_len], after[words_str_len];
    int e = bitmap_ioctl(VFIO_IOMMU_DIRTY_PAGES, arg, in, nwords, before, after);
    out("vec=%d op=dirty what=%s argsz=%u flags=0x%x iova=0x%llx size=0x%llx pgsize=0x%llx "
        "bitmap_size=0x%llx errno=%s expect=%s bitmap_in=%s bitmap_out=%s%s",
        ++vec_no, what, argsz, flags, (unsigned long long)iova, (unsigned long long)size,
        (unsigned long long)pgsize, (unsigned long long)bm_size, ename(e), ename(expect), before, after,
        e == expect ? "" : " MISMATCH");
}

static void dirty_flag(const char *what, uint32_t flags, int expect) {
    dirty_vec(what, flags, sizeof(struct vfio_iommu_type1_dirty_bitmap), 0, 0, 0, 0, NULL, 0, expect);
}

static void dirty_get(const char *what, uint64_t iova, uint64_t size, uint64_t pgsize, uint64_t bm_size,
                      const uint64_t *in, unsigned nwords, int expect) {
    dirty_vec(what, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
              sizeof(struct vfio_iommu_type1_dirty_bitmap) + sizeof(struct vfio_iommu_type1_dirty_bitmap_get),
              iova, size, pgsize, bm_size, in, nwords, expect);
}

/* VFIO_IOMMU_UNMAP_DMA with GET_DIRTY_BITMAP (SEMANTICS C2, C3, C8, C10). */
static void unmap_bitmap_vec(const char *what, uint32_t flags, uint32_t argsz, uint64_t iova, uint64_t size,
                             uint64_t pgsize, uint64_t bm_size, const uint64_t *in, unsigned nwords,
                             int expect, long long expect_size) {
    char arg[sizeof(struct vfio_iommu_type1_dma_unmap) + sizeof(struct vfio_bitmap)];
    struct vfio_iommu_type1_dma_unmap u = {.argsz = argsz, .flags = flags, .iova = iova, .size = size};
    struct vfio_bitmap b = {.pgsize = pgsize, .size = bm_size, .data = (__u64 *)user_bits};
    memcpy(arg, &u, sizeof u);
    memcpy(arg + sizeof u, &b, sizeof b);
    char before[words_str_len], after[words_str_len];
    int e = bitmap_ioctl(VFIO_IOMMU_UNMAP_DMA, arg, in, nwords, before, after);
    memcpy(&u, arg, sizeof u);
    int bad = e != expect || (e == 0 && expect_size >= 0 && (long long)u.size != expect_size);
    out("vec=%d op=unmap what=%s argsz=%u iova=0x%llx size=0x%llx flags=0x%x pgsize=0x%llx "
        "bitmap_size=0x%llx errno=%s unmapped=0x%llx expect=%s expect_unmapped=0x%llx "
        "bitmap_in=%s bitmap_out=%s%s",
        ++vec_no, what, argsz, (unsigned long long)iova, (unsigned long long)size, flags,
        (unsigned long long)pgsize, (unsigned long long)bm_size, ename(e),
        e ? 0ULL : (unsigned long long)u.size, ename(expect),
        (unsigned long long)(expect_size < 0 ? 0 : expect_size), before, after, bad ? " MISMATCH" : "");
}

/* Leave the current container and join a new one with `type`; 0 when it worked. The old
 * container, with no group left, is released. */
static int reattach(const char *tag, int type, const char *type_name) {
    int e = ioctl(groupfd, VFIO_GROUP_UNSET_CONTAINER) ? errno : 0;
    out("unset_container tag=%s errno=%s", tag, ename(e));
    if (e) return e;
    close(container);
    container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (container < 0) { out("reattach tag=%s open_errno=%s", tag, ename(errno)); return -1; }
    e = ioctl(groupfd, VFIO_GROUP_SET_CONTAINER, &container) ? errno : 0;
    if (e) { out("reattach tag=%s set_container_errno=%s", tag, ename(e)); return e; }
    e = ioctl(container, VFIO_SET_IOMMU, type) ? errno : 0;
    out("reattach tag=%s type=%s errno=%s", tag, type_name, ename(e));
    return e;
}

static void set_entry_limit(unsigned n) {
    char v[16];
    snprintf(v, sizeof v, "%u", n);
    int e = write_file("/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", v);
    out("entry_limit value=%u write_errno=%s", n, ename(e));
}

/* Dirty tracking on a v2 container (SEMANTICS C2, C3, C8, C10, D1-D7, B15). The group's
 * devices never pin pages, so every page of every mapping is dirty at every query (D7). */
static void dirty_vectors(void) {
    const uint32_t RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    const uint32_t START = VFIO_IOMMU_DIRTY_PAGES_FLAG_START, STOP = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
    const uint32_t GDB = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
    const uint32_t UB = sizeof(struct vfio_iommu_type1_dma_unmap) + sizeof(struct vfio_bitmap);
    char *b = buf;
    /* A: 16 pages at 1M; B: 4 pages at 2M; C: 1 page at 2M+0x21000, sharing B's bitmap word
     * of a query based at 1M (bit 289 = word 4, bit 33). */
    static const uint64_t pattern[8] = {0xf000000000000000ULL, 0, 0xaaaa, 0, 0x100000000000ULL, 0x55, 0, 0};
    static const uint64_t low_bit[1] = {0x1};
    map_vec("A", 0x100000, 0x10000, RW, 0, b);
    map_vec("B", 0x200000, 0x4000, RW, 0, b + 0x10000);
    map_vec("C", 0x221000, 0x1000, RW, 0, b + 0x20000);
    dirty_get("D5_get_before_start", 0x100000, 0x200000, 0x1000, 64, NULL, 8, EINVAL);
    dirty_flag("D3_start", START, 0);
    dirty_flag("D3_start_again", START, 0);
    dirty_flag("D2_start_and_stop", START | STOP, EINVAL);
    dirty_flag("D2_no_flag", 0, EINVAL);
    dirty_flag("D1_unknown_flag", 8, EINVAL);
    dirty_vec("D1_argsz4", START, 4, 0, 0, 0, 0, NULL, 0, EINVAL);
    dirty_vec("D5_argsz40", VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, 40, 0x100000, 0x200000, 0x1000, 64,
              NULL, 8, EINVAL);
    dirty_get("D6_get_1M_to_3M_patterned", 0x100000, 0x200000, 0x1000, 64, pattern, 8, 0);
    dirty_get("D7_get_again", 0x100000, 0x200000, 0x1000, 64, NULL, 8, 0);
    dirty_get("D5_pgsize_8K", 0x100000, 0x200000, 0x2000, 64, NULL, 8, EINVAL);
    dirty_get("D5_cuts_A", 0x101000, 0x1000, 0x1000, 8, NULL, 1, EINVAL);
    dirty_get("D5_ends_inside_A", 0x100000, 0x1000, 0x1000, 8, NULL, 1, EINVAL);
    dirty_get("D5_bitmap_56_bytes", 0x100000, 0x200000, 0x1000, 56, NULL, 8, EINVAL);
    dirty_get("D5_bitmap_0_bytes", 0x100000, 0x200000, 0x1000, 0, NULL, 8, EINVAL);
    dirty_get("D5_size0", 0x100000, 0, 0x1000, 8, NULL, 1, EINVAL);
    dirty_get("D5_misaligned_iova", 0x100800, 0x1000, 0x1000, 8, NULL, 1, EINVAL);
    dirty_get("D5_wrap", 0xFFFFFFFFFFFFF000ULL, 0x2000, 0x1000, 8, NULL, 1, EINVAL);
    dirty_get("D5_top_page", 0xFFFFFFFFFFFFF000ULL, 0x1000, 0x1000, 8, NULL, 1, EINVAL);
    dirty_get("D6_empty_range_keeps_bitmap", 0x800000, 0x40000, 0x1000, 8, pattern, 2, 0);
    unmap_bitmap_vec("C3_argsz24", GDB, 24, 0x200000, 0x4000, 0x1000, 8, NULL, 1, EINVAL, -1);
    unmap_bitmap_vec("C2_with_all", GDB | VFIO_DMA_UNMAP_FLAG_ALL, UB, 0, 0, 0x1000, 8, NULL, 1, EINVAL, -1);
    unmap_bitmap_vec("C8_pgsize_8K", GDB, UB, 0x200000, 0x4000, 0x2000, 8, NULL, 1, EINVAL, -1);
    unmap_bitmap_vec("C3_bitmap_0_bytes", GDB, UB, 0x200000, 0x4000, 0x1000, 0, NULL, 1, EINVAL, -1);
    unmap_bitmap_vec("C10_B", GDB, UB, 0x200000, 0x4000, 0x1000, 8, NULL, 1, 0, 0x4000);
    unmap_bitmap_vec("C10_C_at_bit_2", GDB, UB, 0x21f000, 0x3000, 0x1000, 8, low_bit, 1, 0, 0x1000);
    map_vec("B15_map_while_tracking", 0x400000, 0x2000, RW, 0, b + 0x30000);
    dirty_get("D3_new_mapping", 0x400000, 0x2000, 0x1000, 8, NULL, 1, 0);
    dirty_flag("D4_stop", STOP, 0);
    dirty_flag("D4_stop_again", STOP, 0);
    dirty_get("D5_get_after_stop", 0x100000, 0x10000, 0x1000, 8, NULL, 1, EINVAL);
    unmap_bitmap_vec("C8_after_stop", GDB, UB, 0x400000, 0x2000, 0x1000, 8, NULL, 1, EINVAL, -1);
    dirty_flag("D3_restart", START, 0);
    dirty_get("D7_A_after_restart", 0x100000, 0x10000, 0x1000, 8, NULL, 1, 0);
    unmap_vec("unmap_all_tracking", 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0x12000);
    dirty_flag("D4_stop_end", STOP, 0);
}

/* A v1 container (SEMANTICS C10, D1) whose entry limit is 4 (B10, §1.2). */
static void v1_vectors(void) {
    const uint32_t RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    char *b = buf;
    get_info("v1");
    dirty_flag("D1_v1_start", VFIO_IOMMU_DIRTY_PAGES_FLAG_START, EACCES);
    map_vec("v1_A", 0x1000, 0x4000, RW, 0, b);
    unmap_vec("C10_v1_starts_inside", 0x2000, 0x1000, 0, 0, 0);
    unmap_vec("C10_v1_ends_inside", 0x0, 0x2000, 0, 0, 0x4000);
    map_vec("v1_A_again", 0x1000, 0x4000, RW, 0, b);
    unmap_vec("C10_v1_first_page", 0x1000, 0x1000, 0, 0, 0x4000);
    map_vec("v1_A_third", 0x1000, 0x4000, RW, 0, b);
    map_vec("v1_B", 0x10000, 0x1000, RW, 0, b + 0x10000);
    unmap_vec("C10_v1_walk_stops_at_A", 0x2000, 0x10000, 0, 0, 0);
    unmap_vec("C10_v1_both", 0x0, 0x20000, 0, 0, 0x5000);
    for (int i = 0; i < 4; i++) {
        char w[32];
        snprintf(w, sizeof w, "B10_entry_%d", i);
        map_vec(w, 0x100000 + (uint64_t)i * 0x2000, 0x1000, RW, 0, b + i * 0x1000);
    }
    get_info("v1_full");
    map_vec("B10_fifth_entry", 0x200000, 0x1000, RW, ENOSPC, b);
    map_vec("B9_overlap_when_full", 0x100000, 0x1000, RW, EEXIST, b);
    unmap_vec("B10_free_one", 0x102000, 0x1000, 0, 0, 0x1000);
    map_vec("B10_fifth_after_free", 0x200000, 0x1000, RW, 0, b);
    unmap_vec("unmap_all_v1", 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0x4000);
    get_info("v1_end");
}

/* Where the last page can be mapped (AMD-Vi v1): a mapping ending at 2^64-1 linked after
 * A and before B, so that the tree's rotation makes it the root with A to its right
 * (SEMANTICS P5). The expectations are the v6.18 ones; the differences are what the
 * pre-v6.18 tree does (type1/kernel_dma_tree.hpp predicts each). */
static void top_root_vectors(void) {
    const uint32_t RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    const uint64_t last_page = UINT64_MAX - 0xFFF;
    map_vec("F1_map_A", 0x10000, 0x1000, RW, 0, buf);
    map_vec("F2_map_last_page", last_page, 0x1000, RW, 0, buf);
    map_vec("F3_map_B_below", 0x1000, 0x1000, RW, 0, buf);
    map_vec("F4_map_A_again", 0x10000, 0x1000, RW, EEXIST, buf);
    unmap_vec("F5_unmap_A", 0x10000, 0x1000, 0, 0, 0x1000);
    unmap_vec("F6_unmap_A_again", 0x10000, 0x1000, 0, 0, 0);
    unmap_vec("F7_unmap_all", 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0x1000);
    unmap_vec("F8_unmap_B", 0x1000, 0x1000, 0, 0, 0);
    get_info("top_root");
}

static void more_containers(void) {
    if (last_iova_end == UINT64_MAX && reattach("top_root", VFIO_TYPE1v2_IOMMU, "TYPE1v2") == 0)
        top_root_vectors();
    if (reattach("dirty", VFIO_TYPE1v2_IOMMU, "TYPE1v2") == 0) dirty_vectors();
    set_entry_limit(4);
    if (reattach("v1", VFIO_TYPE1_IOMMU, "TYPE1") == 0) v1_vectors();
    set_entry_limit(65535);
}

static void report_interrupts(const char *tag, const char *filter) {
    static char ib[65536];
    if (read_file("/proc/interrupts", ib, sizeof ib) < 0) return;
    for (char *save = NULL, *l = strtok_r(ib, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (filter && !strstr(l, filter)) continue;
        while (*l == ' ') l++;
        out("interrupts tag=%s line=%s", tag, l);
    }
}

static void device_irqs(const char *group) {
    (void)group;
    int dev = ioctl(groupfd, VFIO_GROUP_GET_DEVICE_FD, pci_addr);
    out("get_device_fd errno=%s", ename(dev < 0 ? errno : 0));
    if (dev < 0) return;
    struct vfio_device_info di = {.argsz = sizeof di};
    if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di) == 0)
        out("device_info flags=0x%x num_regions=%u num_irqs=%u", di.flags, di.num_regions,
            di.num_irqs);
    static const char *names[] = {"INTX", "MSI", "MSIX", "ERR", "REQ"};
    for (uint32_t i = 0; i < di.num_irqs && i < 5; i++) {
        struct vfio_irq_info ii = {.argsz = sizeof ii, .index = i};
        if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0)
            out("irq_info index=%s flags=0x%x count=%u", names[i], ii.flags, ii.count);
    }
    /* Enable one MSI (or MSI-X) vector: the kernel allocates it from the device's MSI irq
     * domain, whose chip name /proc/interrupts then shows. */
    for (uint32_t idx = VFIO_PCI_MSI_IRQ_INDEX; idx <= VFIO_PCI_MSIX_IRQ_INDEX; idx++) {
        struct vfio_irq_info ii = {.argsz = sizeof ii, .index = idx};
        if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) || ii.count == 0) continue;
        int efd = eventfd(0, EFD_CLOEXEC);
        char sb[sizeof(struct vfio_irq_set) + sizeof(int)];
        struct vfio_irq_set *s = (void *)sb;
        s->argsz = sizeof sb;
        s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
        s->index = idx;
        s->start = 0;
        s->count = 1;
        memcpy(s->data, &efd, sizeof efd);
        int e = ioctl(dev, VFIO_DEVICE_SET_IRQS, s) ? errno : 0;
        out("set_irqs index=%s errno=%s", names[idx], ename(e));
        if (e == 0) {
            report_interrupts(names[idx], "vfio");
            struct vfio_irq_set off = {.argsz = sizeof off,
                                       .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                                       .index = idx, .start = 0, .count = 0};
            ioctl(dev, VFIO_DEVICE_SET_IRQS, &off);
        }
        close(efd);
        break;
    }
    close(dev);
}

static void vfio_sequence(const char *group, int is_x86) {
    container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    out("open_container errno=%s", ename(container < 0 ? errno : 0));
    if (container < 0) return;
    out("api_version=%d", ioctl(container, VFIO_GET_API_VERSION));
    static const struct { int ext; const char *name; } exts[] = {
        {VFIO_TYPE1_IOMMU, "TYPE1"}, {VFIO_TYPE1v2_IOMMU, "TYPE1v2"},
        {VFIO_DMA_CC_IOMMU, "DMA_CC_IOMMU"}, {6, "TYPE1_NESTING"},
        {VFIO_UNMAP_ALL, "UNMAP_ALL"}, {VFIO_UPDATE_VADDR, "UPDATE_VADDR"},
        {VFIO_NOIOMMU_IOMMU, "NOIOMMU"}};
    for (unsigned i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        int r = ioctl(container, VFIO_CHECK_EXTENSION, exts[i].ext);
        out("check_extension when=before_set_iommu ext=%s ret=%d", exts[i].name, r);
    }
    char p[64];
    snprintf(p, sizeof p, "/dev/vfio/%s", group);
    for (int i = 0; i < 50 && access(p, F_OK); i++) sleep_ms(100);
    groupfd = open(p, O_RDWR | O_CLOEXEC);
    out("open_group path=%s errno=%s", p, ename(groupfd < 0 ? errno : 0));
    if (groupfd < 0) return;
    struct vfio_group_status st = {.argsz = sizeof st};
    int e = ioctl(groupfd, VFIO_GROUP_GET_STATUS, &st) ? errno : 0;
    out("group_status errno=%s flags=0x%x viable=%d", ename(e), st.flags,
        !!(st.flags & VFIO_GROUP_FLAGS_VIABLE));
    e = ioctl(groupfd, VFIO_GROUP_SET_CONTAINER, &container) ? errno : 0;
    out("set_container errno=%s", ename(e));
    if (e) return;
    e = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? errno : 0;
    out("set_iommu type=TYPE1v2 errno=%s allow_unsafe_interrupts=%d", ename(e), unsafe_param);
    if (e == EPERM && retry_unsafe) {
        /* Secondary: the same attach with the module parameter switched on at run time
         * (0644 parameter). Lets the rest of the probe run on refused platforms. */
        int we = write_file("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "1");
        e = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? errno : 0;
        out("set_iommu_retry_unsafe type=TYPE1v2 param_write_errno=%s errno=%s", ename(we),
            ename(e));
    }
    if (e) return;
    for (unsigned i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        int r = ioctl(container, VFIO_CHECK_EXTENSION, exts[i].ext);
        out("check_extension when=after_set_iommu ext=%s ret=%d", exts[i].name, r);
    }
    get_info("initial");
    {   /* GET_INFO with argsz = 16 (minsz) and 24 (no room for caps): SEMANTICS E1 */
        struct vfio_iommu_type1_info small = {.argsz = 16};
        e = ioctl(container, VFIO_IOMMU_GET_INFO, &small) ? errno : 0;
        out("get_info_argsz16 errno=%s argsz_out=%u flags=0x%x", ename(e), small.argsz, small.flags);
        struct vfio_iommu_type1_info hdr = {.argsz = 24};
        e = ioctl(container, VFIO_IOMMU_GET_INFO, &hdr) ? errno : 0;
        out("get_info_argsz24 errno=%s argsz_out=%u flags=0x%x cap_offset=%u", ename(e), hdr.argsz,
            hdr.flags, hdr.cap_offset);
        struct vfio_iommu_type1_info tiny = {.argsz = 15};
        e = ioctl(container, VFIO_IOMMU_GET_INFO, &tiny) ? errno : 0;
        out("get_info_argsz15 errno=%s", ename(e));
    }
    buf = mmap(NULL, buf_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) { out("mmap errno=%s", ename(errno)); return; }
    memset(buf, 0x5a, buf_len);
    dma_vectors(is_x86);
    get_info("final");
    device_irqs(group);
    more_containers();
}

static void report_klog(void) {
    static char lb[1 << 20];
    int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, lb, sizeof lb - 1);
    if (n <= 0) return;
    lb[n] = 0;
    static const char *keys[] = {"DMAR", "IOMMU", "iommu", "AMD-Vi", "ITS", "GICv2m", "v2m",
                                 "GIC", "remapping", "Remapping", "vfio", "VFIO", "smmu",
                                 "SMMU", "MSI", "x2apic", "pci 0000", "Kernel command line"};
    for (char *save = NULL, *l = strtok_r(lb, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            if (strstr(l, keys[i])) {
                if (strstr(l, "pci 0000") && !strstr(l, pci_addr[0] ? pci_addr : "@@")) break;
                out("klog=%s", l);
                break;
            }
        }
    }
}

/* /shadow (shadow_probe.cpp): the host check and the Linux backend in shadow mode, as a
 * child, with nothing of VFIO open here; it leaves allow_unsafe_interrupts as it found it. */
static void run_shadow(const char *group) {
    pid_t pid = fork();
    if (pid == 0) {
        char *const argv[] = {"/shadow", (char *)group, NULL};
        execv("/shadow", argv);
        _exit(127);
    }
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    out("shadow_exit=%d", pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void) {
    setup_fs();
    read_file("/proc/cmdline", cmdline, sizeof cmdline);
    chomp(cmdline);
    const char *v;
    if ((v = param("probe.unsafe"))) unsafe_param = atoi(v);
    if ((v = param("probe.retry_unsafe"))) retry_unsafe = atoi(v);
    if ((v = param("probe.pciid"))) sscanf(v, "%x:%x", &pci_vendor, &pci_device);
    ssize_t w = write(1, "\n", 1); /* the console may hold firmware escape codes */
    (void)w;
    out("start uptime=%.2f", uptime());
    report_system();
    report_host();
    struct utsname u;
    uname(&u);
    int is_x86 = strcmp(u.machine, "x86_64") == 0;
    load_modules();
    if (find_device()) {
        out("device id=%04x:%04x found=0", pci_vendor, pci_device);
        list_pci();
    } else {
        out("device id=%04x:%04x addr=%s found=1", pci_vendor, pci_device, pci_addr);
        char p[512], grp[256] = "", mb[16] = "";
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/msi_bus", pci_addr);
        if (read_file(p, mb, sizeof mb) > 0) { chomp(mb); out("msi_bus=%s", mb); }
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/iommu_group", pci_addr);
        ssize_t n = readlink(p, grp, sizeof grp - 1);
        out("iommu_group_before_bind=%s", n > 0 ? (grp[n] = 0, strrchr(grp, '/') + 1) : "none");
        /* On DT arm64 the IOMMU is configured for a device only when a driver probes it
         * (of_dma_configure), so an unclaimed device has no group until vfio-pci binds. */
        int be = bind_vfio();
        n = readlink(p, grp, sizeof grp - 1);
        list_pci();
        if (n <= 0) {
            out("iommu_group=none");
        } else {
            grp[n] = 0;
            const char *g = strrchr(grp, '/') + 1;
            out("iommu_group=%s", g);
            report_group(g);
            report_all_groups();
            if (be == 0) run_shadow(g);
            if (be == 0) vfio_sequence(g, is_x86);
        }
    }
    report_interrupts("end", NULL);
    report_klog();
    out("uptime=%.2f", uptime());
    out("done");
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}
