global rule global_size_limit
{
    condition:
        filesize < 10MB
}

private rule private_marker
{
    strings:
        $m = "example-marker"
    condition:
        $m
}

rule uses_private
{
    meta:
        desc = "Names a private rule"
    strings:
        $a = "example-payload"
    condition:
        private_marker and $a
}

rule unrelated
{
    condition:
        uint16(0) == 0x5A4D
}

rule chain
{
    meta:
        description = "Names a rule that names a private rule"
    condition:
        uses_private or unrelated
}
