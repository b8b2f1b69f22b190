{
  "targets": [
    {
      "target_name": "rds_nvme",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/attributes.cc",
        "native/errno_error.cc",
        "native/fabrics.cc",
        "native/files.cc",
        "native/mount.cc",
        "native/openers.cc",
        "native/probe.cc",
        "native/scan.cc",
        "native/spawn.cc",
        "native/sysfs_io.cc",
        "native/usage.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror=return-type"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lblkid"]
    }
  ]
}
