# clickhouse-config.sh — sourced by bench/run.sh and bench/analytics/run.sh:
# the config of a private ClickHouse server on 127.0.0.1 (Debian's 18.16).
#
#   ch_write_config DIR TCP_PORT HTTP_PORT MAX_MEMORY_BYTES
# writes DIR/config.xml and DIR/users.xml (data under DIR/data, logs in DIR);
# HTTP_PORT may be empty for no HTTP interface.
ch_write_config() {
    local dir=$1 tcp=$2 http=$3 maxmem=$4
    mkdir -p "$dir/data"
    cat >"$dir/config.xml" <<EOF2
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/server.err.log</errorlog></logger>
    <tcp_port>$tcp</tcp_port>
${http:+    <http_port>$http</http_port>
}    <listen_host>127.0.0.1</listen_host>
    <max_connections>64</max_connections>
    <max_concurrent_queries>8</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/data/tmp/</tmp_path>
    <user_files_path>$dir/data/user_files/</user_files_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF2
    cat >"$dir/users.xml" <<EOF2
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>$maxmem</max_memory_usage></default></profiles>
    <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF2
}
