#pragma once
// A filesystem for the Linux backend's readers (linux_vfio::Filesystem): files and
// directory listings held in maps. add() also lists the file in each of its parents.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace passthru::testing {

struct fake_fs {
    std::map<std::string, std::string> files;
    std::map<std::string, std::vector<std::string>> dirs;
    std::optional<std::string> read(const std::string& p) const {
        auto it = files.find(p);
        return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    std::optional<std::vector<std::string>> list(const std::string& p) const {
        auto it = dirs.find(p);
        return it == dirs.end() ? std::nullopt : std::optional<std::vector<std::string>>(it->second);
    }
    void add(const std::string& path, const std::string& text) {
        files[path] = text;
        for (std::string p = path; p.rfind('/') > 0;) {
            const auto at = p.rfind('/');
            auto& d = dirs[p.substr(0, at)];
            const std::string name = p.substr(at + 1);
            if (std::find(d.begin(), d.end(), name) == d.end()) d.push_back(name);
            p = p.substr(0, at);
        }
    }
};

} // namespace passthru::testing
