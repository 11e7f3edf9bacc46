"""Report texts the refresh tests land, written the way agencies publish them."""


def county_bureau_report(published: str, received: int) -> str:
    """A short narrative report of one county bureau for 2022 (a corrected edition, published later
    with another figure, supersedes it)."""
    return (
        "河南省焦作市温县教育局2022年政府信息公开工作年度报告\n"
        f"发布日期：{published}\n\n"
        "一、总体情况\n"
        f"2022年，我局共受理政府信息公开申请{received}件，均已按时办结。\n"
        "全年未发生因政府信息公开引起的行政复议、行政诉讼。\n"
    )
