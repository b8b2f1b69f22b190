{
  "targets": [
    {
      "target_name": "rds_nvme",
      "sources": ["native/addon.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror=return-type"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
