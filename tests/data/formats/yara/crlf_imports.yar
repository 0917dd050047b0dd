import "pe"
import "hash"

rule crlf_rule
{
    condition:
        pe.is_pe and hash.md5(0, 10) == "00000000000000000000000000000000"
}
