// The report's formatting, layout and rows (examples/report/). Expected values are
// written out by hand from SEMANTICS (§1.3, §I, §A.1, §H, N), not computed by the code
// under test.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "report/catalog_rows.hpp"
#include "report/format.hpp"
#include "report/markdown.hpp"
#include "report/table.hpp"
#include "report/text_report.hpp"

using passthru::interval;
using passthru::interval_list;
using passthru::msi_verdict;
using passthru::pgsize_bitmap;

namespace {

constexpr std::uint64_t K = 1024, M = K * K, G = M * K;

const report::platform_row& find_row(const std::vector<report::platform_row>& rows,
                                     std::string_view iommu, std::string_view irq) {
    for (const report::platform_row& r : rows)
        if (r.iommu == iommu && r.irq == irq) return r;
    FAIL("no row for " << iommu << " + " << irq);
    return rows.front();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

} // namespace

TEST_CASE("examples/report: addresses and inclusive ranges print in SEMANTICS notation") {
    CHECK(report::hex(0) == "0x0");
    CHECK(report::hex(0xFEDFFFFF) == "0xFEDFFFFF");
    CHECK(report::hex(~std::uint64_t{0}) == "0xFFFFFFFFFFFFFFFF");
    CHECK(report::range({0x8000000, 0x80FFFFF}) == "[0x8000000, 0x80FFFFF]");
    CHECK(report::ranges({{0, 0xFEDFFFFF}, {0xFEF00000, 0xFFFFFFFFFFFF}}) ==
          "[0x0, 0xFEDFFFFF] [0xFEF00000, 0xFFFFFFFFFFFF]");
    CHECK(report::ranges({}) == "none");
}

TEST_CASE("examples/report: byte sizes use the largest binary unit that divides them") {
    CHECK(report::byte_size(4 * K) == "4K");
    CHECK(report::byte_size(2 * M) == "2M");
    CHECK(report::byte_size(512 * G) == "512G");
    CHECK(report::byte_size(std::uint64_t{1} << 63) == "8E");
    CHECK(report::byte_size(3 * K) == "3K");
    CHECK(report::byte_size(1500) == "1500B");
}

TEST_CASE("examples/report: page-size bitmaps print compactly (SEMANTICS §I)") {
    CHECK(report::pgsizes({4 * K | 2 * M | G}) == "4K|2M|1G");      // VT-d, LPAE 4K granule
    CHECK(report::pgsizes({16 * K | 32 * M}) == "16K|32M");         // LPAE 16K granule
    CHECK(report::pgsizes({64 * K | 512 * M}) == "64K|512M");       // LPAE 64K granule
    CHECK(report::pgsizes({4 * K | 64 * K | M | 16 * M}) == "4K|64K|1M|16M"); // AArch32-S
    // AMD-Vi v1: every power of two from 4K up, except 512 GiB.
    CHECK(report::pgsizes({~std::uint64_t{0xFFF} & ~(std::uint64_t{1} << 39)}) ==
          "4K..8E except 512G");
    CHECK(report::pgsizes({~std::uint64_t{0xFFF}}) == "4K..8E"); // VT-d before v5.15
    CHECK(report::pgsizes({4 * K | 8 * K | 16 * K}) == "4K..16K");
    CHECK(report::pgsizes({4 * K | 8 * K}) == "4K|8K");
    CHECK(report::pgsizes({4 * K | 8 * K | 16 * K | G}) == "4K..16K|1G");
    // bits 12..20 without 16K and 64K: two holes are still named.
    CHECK(report::pgsizes({(M * 2 - 4 * K) & ~(16 * K) & ~(64 * K)}) ==
          "4K..1M except 16K, 64K");
    CHECK(report::pgsizes({4 * K}) == "4K");
    CHECK(report::pgsizes({0}) == "none");
}

TEST_CASE("examples/report: verdict words and MSI setups") {
    CHECK(report::verdict_word(msi_verdict::isolated) == "yes");
    CHECK(report::verdict_word(msi_verdict::not_isolated) == "no");
    CHECK(report::verdict_word(msi_verdict::runtime) == "at attach");
    CHECK(report::msi_setup({passthru::msi_strategy::sw_msi_cookie, 0x8000000}) ==
          "SW_MSI cookie at 0x8000000");
    CHECK(report::msi_setup({passthru::msi_strategy::hw_window, std::nullopt}) ==
          "hardware MSI window");
}

TEST_CASE("examples/report: a table aligns its columns and fits narrower widths") {
    using report::align;
    using report::cell;
    report::text_table t({{.title = "#", .side = align::right},
                          {.title = "Name", .wrap = true},
                          {.title = "Value"},
                          {.title = "Extra", .demote_rank = 1}},
                         {"note"});
    t.add_row({"1", "alpha beta", "yes", "x"}, {cell("first note")});
    t.add_row({"12", "gamma", "no", "yy"}, {cell::of_atoms({"[0x0, 0x1]", "[0x3, 0x4]"})}, true);

    SECTION("wide: every column in the row, details under the second column") {
        CHECK(t.render(80) ==
              "  #  Name        Value  Extra\n"
              " --  ----------  -----  -----\n"
              "  1  alpha beta  yes    x\n"
              "     note  first note\n"
              "\n"
              " 12  gamma       no     yy\n"
              "     note  [0x0, 0x1] [0x3, 0x4]\n");
    }
    SECTION("narrower: the name wraps to two lines before a column is demoted") {
        // 1 + 2 + 2 + 6 + 2 + 5 + 2 + 5 = 25 columns with "Name" at 6 wide. Detail values
        // get at least 20 columns, so the two ranges go on two lines, each kept whole.
        CHECK(t.render(25) ==
              "  #  Name    Value  Extra\n"
              " --  ------  -----  -----\n"
              "  1  alpha   yes    x\n"
              "     beta\n"
              "     note  first note\n"
              "\n"
              " 12  gamma   no     yy\n"
              "     note  [0x0, 0x1]\n"
              "           [0x3, 0x4]\n");
    }
    SECTION("narrowest: the demotable column becomes a labelled detail line") {
        // Even at two lines per name the row needs 24 columns: "Extra" leaves the row,
        // and then "Name" narrows to 8.
        const report::text_table::layout l = t.fit(20);
        CHECK(l.demoted == std::vector<std::size_t>{3});
        CHECK(l.widths == std::vector<std::size_t>{2, 8, 5});
        CHECK(t.render(20) ==
              "  #  Name      Value\n"
              " --  --------  -----\n"
              "  1  alpha     yes\n"
              "     beta\n"
              "     Extra  x\n"
              "     note   first note\n"
              "\n"
              " 12  gamma     no\n"
              "     Extra  yy\n"
              "     note   [0x0, 0x1]\n"
              "            [0x3, 0x4]\n");
    }
    SECTION("a range is never cut in two") {
        CHECK(cell::of_atoms({"[0x0, 0x1]", "[0x3, 0x4]"}).wrap(12) ==
              std::vector<std::string>{"[0x0, 0x1]", "[0x3, 0x4]"});
    }
}

TEST_CASE("examples/report: the rows cover every catalog pairing, in order") {
    const auto rows = report::catalog_rows();
    const std::vector<std::pair<std::string_view, std::string_view>> expected = {
        {"ARM SMMUv3", "GICv3 ITS"},
        {"ARM SMMUv3", "GICv3 ITS (SynQuacer pre-ITS)"},
        {"ARM SMMUv3", "GICv3 (no ITS)"},
        {"ARM SMMUv3", "GICv2m"},
        {"ARM SMMUv3", "GICv3 MBI"},
        {"ARM SMMUv2/MMU-500", "GICv3 ITS"},
        {"ARM SMMUv2/MMU-500", "GICv3 ITS (SynQuacer pre-ITS)"},
        {"ARM SMMUv2/MMU-500", "GICv3 (no ITS)"},
        {"ARM SMMUv2/MMU-500", "GICv2m"},
        {"ARM SMMUv2/MMU-500", "GICv3 MBI"},
        {"Intel VT-d", "Intel interrupt remapping"},
        {"Intel VT-d", "x86 APIC (no interrupt remapping)"},
        {"AMD-Vi", "AMD-Vi interrupt remapping"},
        {"AMD-Vi", "x86 APIC (no interrupt remapping)"},
        {"Freescale PAMU", "Freescale MSI bank"},
        {"s390 zPCI IOMMU", "s390 zPCI adapter interrupts"},
        {"RISC-V IOMMU", "RISC-V IMSIC"},
        {"RISC-V IOMMU (validating MSI table, proposed)", "RISC-V IMSIC"},
    };
    REQUIRE(rows.size() == expected.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i].iommu == expected[i].first);
        CHECK(rows[i].irq == expected[i].second);
    }
}

TEST_CASE("examples/report: rows hold the values SEMANTICS gives") {
    const auto rows = report::catalog_rows();

    SECTION("x86 VT-d with IR: aperture 48-bit minus the MSI window (SEMANTICS N, §1.3)") {
        const auto& r = find_row(rows, "Intel VT-d", "Intel interrupt remapping");
        CHECK(r.usable == interval_list{{0, 0xFEDFFFFF}, {0xFEF00000, 0xFFFFFFFFFFFF}});
        CHECK(r.v6_3.verdict == msi_verdict::isolated);
        CHECK(r.v3_15.verdict == msi_verdict::isolated); // INTR_REMAP cap (H.3)
        CHECK(report::msi_setup(r.msi) == "hardware MSI window"); // A12: MSI region wins
        CHECK(report::pgsizes(r.pgsizes) == "4K|2M|1G");
    }
    SECTION("ARM SMMUv3 + ITS: 48-bit minus SW_MSI [0x8000000, 0x80FFFFF] (§1.3, §I)") {
        const auto& r = find_row(rows, "ARM SMMUv3", "GICv3 ITS");
        CHECK(r.usable == interval_list{{0, 0x7FFFFFF}, {0x8100000, 0xFFFFFFFFFFFF}});
        CHECK(report::msi_setup(r.msi) == "SW_MSI cookie at 0x8000000"); // A12, G.4
        CHECK(r.v6_3.verdict == msi_verdict::isolated);   // H.2: ITS isolates
        CHECK(r.v4_11.verdict == msi_verdict::isolated);  // H.3: MSI_REMAP since v4.11
        CHECK(r.v3_15.verdict == msi_verdict::not_isolated); // H.3: SMMU never had the cap
        CHECK(r.decision == passthru::attach_decision::allow);
    }
    SECTION("AMD-Vi: 64-bit minus the MSI window and the HyperTransport range (§1.3, §I)") {
        const auto& r = find_row(rows, "AMD-Vi", "AMD-Vi interrupt remapping");
        CHECK(r.usable == interval_list{{0, 0xFEDFFFFF},
                                        {0xFEF00000, 0xFCFFFFFFFF},
                                        {0x10000000000, 0xFFFFFFFFFFFFFFFF}});
        // GENMASK(51,12) ^ SZ_512G, as a booted 6.12 kernel reports it.
        CHECK(report::pgsizes(r.pgsizes) == "4K..2P except 512G");
    }
    SECTION("GICv3 without ITS: refused now, vacuously isolated before v6.3 (H.1, H.3)") {
        const auto& r = find_row(rows, "ARM SMMUv3", "GICv3 (no ITS)");
        CHECK(r.v6_3.verdict == msi_verdict::not_isolated);
        CHECK(r.v4_11.verdict == msi_verdict::isolated);
        CHECK(r.decision == passthru::attach_decision::refuse);
        CHECK(r.v6_3.reason ==
              "GICv3 (no ITS): MSI isolation missing: the interrupt controller neither remaps MSIs "
              "nor tags them with a hardware DeviceID; add the option "
              "passthru::allow_unsafe_interrupts (or set type1's allow_unsafe_interrupts) to attach "
              "anyway");
    }
    SECTION("PAMU + MSI bank: refused by v6.3+, decided per domain with exclusive banks (H.6)") {
        const auto& r = find_row(rows, "Freescale PAMU", "Freescale MSI bank");
        CHECK(r.v6_3.verdict == msi_verdict::not_isolated);
        CHECK(r.exclusive_bank_aware.verdict == msi_verdict::runtime);
    }
    SECTION("the 2014 RFC admits any platform device, and only it depends on the bus") {
        for (const auto& r : rows) {
            INFO(r.iommu << " + " << r.irq);
            CHECK(r.rfc_2014_platform.verdict == msi_verdict::isolated);
            CHECK(r.rfc_2014_pci.verdict == r.v3_15.verdict);
        }
    }
}

TEST_CASE("examples/report: the text report fits 80 to 200 columns and keeps every fact") {
    const auto rows = report::catalog_rows();
    for (std::size_t width : {80u, 100u, 120u, 160u, 200u}) {
        INFO("width " << width);
        const std::string text = report::text_report(rows, width);
        for (const std::string& line : lines_of(text)) CHECK(line.size() <= width);
        for (const auto& r : rows) {
            // Words of a wrapped reason may be split over lines; its first words are not.
            CHECK(text.find(std::string(r.v6_3.reason.substr(0, 20))) != std::string::npos);
            CHECK(text.find(report::range(r.usable.back())) != std::string::npos);
        }
        // 6 platforms isolate under v6.3+: ITS x2 IOMMUs, VT-d IR, AMD IR, s390 (H.2), and
        // the proposed validating RISC-V MSI table; RISC-V IOMMU v1.0 does not.
        CHECK(text.find("18 platforms: 6 allow, 12 refuse (EPERM)") != std::string::npos);
    }
    // Wide enough for the MSI setup and page sizes to stay in the row.
    CHECK(lines_of(report::text_report(rows, 200))[2].find("Page sizes") != std::string::npos);
    CHECK(lines_of(report::text_report(rows, 80))[2].find("MSI setup") == std::string::npos);
}

TEST_CASE("examples/report: Markdown escapes the pipes of page sizes") {
    const std::string md = report::markdown_report(report::catalog_rows());
    CHECK(md.find("| 4K\\|2M\\|1G |") != std::string::npos);
    CHECK(md.find("| 15 | Freescale PAMU | Freescale MSI bank | no | yes | no | no | yes | "
                  "at attach | refuse (EPERM) |") != std::string::npos);
}
