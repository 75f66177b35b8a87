use typed_id::*;

// Forty 32-byte legacy prefixes: the published pattern would not fit a `Pattern`.
#[derive(TypedId)]
#[typed_id(prefix = "WORK", accept = ["legacy_prefix_number_00_abcdefg", "legacy_prefix_number_01_abcdefg", "legacy_prefix_number_02_abcdefg", "legacy_prefix_number_03_abcdefg", "legacy_prefix_number_04_abcdefg", "legacy_prefix_number_05_abcdefg", "legacy_prefix_number_06_abcdefg", "legacy_prefix_number_07_abcdefg", "legacy_prefix_number_08_abcdefg", "legacy_prefix_number_09_abcdefg", "legacy_prefix_number_10_abcdefg", "legacy_prefix_number_11_abcdefg", "legacy_prefix_number_12_abcdefg", "legacy_prefix_number_13_abcdefg", "legacy_prefix_number_14_abcdefg", "legacy_prefix_number_15_abcdefg", "legacy_prefix_number_16_abcdefg", "legacy_prefix_number_17_abcdefg", "legacy_prefix_number_18_abcdefg", "legacy_prefix_number_19_abcdefg", "legacy_prefix_number_20_abcdefg", "legacy_prefix_number_21_abcdefg", "legacy_prefix_number_22_abcdefg", "legacy_prefix_number_23_abcdefg", "legacy_prefix_number_24_abcdefg", "legacy_prefix_number_25_abcdefg", "legacy_prefix_number_26_abcdefg", "legacy_prefix_number_27_abcdefg", "legacy_prefix_number_28_abcdefg", "legacy_prefix_number_29_abcdefg", "legacy_prefix_number_30_abcdefg", "legacy_prefix_number_31_abcdefg", "legacy_prefix_number_32_abcdefg", "legacy_prefix_number_33_abcdefg", "legacy_prefix_number_34_abcdefg", "legacy_prefix_number_35_abcdefg", "legacy_prefix_number_36_abcdefg", "legacy_prefix_number_37_abcdefg", "legacy_prefix_number_38_abcdefg", "legacy_prefix_number_39_abcdefg"])]
struct WorkItemId(Seq);

fn main() {}
