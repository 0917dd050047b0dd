// A YARA file with no rule in it: only comments.
/*
rule Commented_Out
{
    condition:
        true
}
*/
// rule Also_Not_A_Rule { condition: true }
