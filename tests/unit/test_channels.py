"""Channel figures from sentences (all sentences written for these tests)."""

import polars as pl
import pytest

from ingest.channels import channel_facts


def _facts(*paragraphs: str) -> dict[tuple[str, float], str]:
    lines = pl.DataFrame(
        {
            "doc_id": ["d"] * len(paragraphs),
            "line_no": list(range(1, len(paragraphs) + 1)),
            "text": list(paragraphs),
        },
        schema={"doc_id": pl.String, "line_no": pl.Int64, "text": pl.String},
    )
    out = channel_facts(lines)
    return {(r["metric"], r["value"]): r["qualifier"] for r in out.to_dicts()}


def test_units_and_approximations():
    got = _facts("本局公众号全年推送文章860篇，粉丝数约12.5万人，总阅读量超过3万次，累计阅读人数2亿余人。")
    assert got == {
        ("channel.wechat.items_published", 860.0): "exact",
        ("channel.wechat.followers", 125000.0): "approx_nearly",
        ("channel.wechat.reads", 30000.0): "approx_more_than",
        ("channel.wechat.readers", 200000000.0): "approx_more_than",
    }


def test_each_channel_keeps_its_own_figures():
    got = _facts(
        "县政府网站发布信息315条；政务微博发布博文88条，粉丝量1.6万人；抖音号发布短视频40条，播放量12万次。"
    )
    assert got == {
        ("channel.portal_website.items_published", 315.0): "exact",
        ("channel.weibo.items_published", 88.0): "exact",
        ("channel.weibo.followers", 16000.0): "exact",
        ("channel.douyin.items_published", 40.0): "exact",
        ("channel.douyin.plays", 120000.0): "exact",
    }


def test_list_after_qizhong_goes_to_the_named_channels():
    got = _facts("通过政务新媒体发布信息90条，其中微信公众号50条、政务微博40条。")
    assert got == {
        ("channel.other.items_published", 90.0): "exact",
        ("channel.wechat.items_published", 50.0): "exact",
        ("channel.weibo.items_published", 40.0): "exact",
    }


def test_sub_items_after_qizhong_are_not_channel_totals():
    got = _facts("在门户网站公开信息200条，其中工作动态120条，通知公告80条。")
    assert got == {("channel.portal_website.items_published", 200.0): "exact"}


def test_chinese_numerals_and_events():
    got = _facts("召开新闻发布会三场，开展在线访谈十二期，编印《某市政府公报》十二期。")
    assert got == {
        ("channel.press_conference.events", 3.0): "exact",
        ("channel.online_interview.events", 12.0): "exact",
        ("channel.gazette.items_published", 12.0): "exact",
    }


def test_no_false_figures():
    got = _facts(
        "2021年3月5日，在门户网站发布《某某通知》（某政发〔2021〕12号）。",
        "咨询电话：0123-4567890，网站访问量较上年增长25%。",
        "微信公众号粉丝较上年新增3000人，单篇最高阅读量5万次。",
    )
    assert got == {}


def test_same_figure_twice_is_one_fact_and_audience_follows_the_previous_sentence():
    got = _facts("本年度门户网站发布信息52条。总访问量为8000次。", "门户网站发布信息52条。")
    assert got == {
        ("channel.portal_website.items_published", 52.0): "exact",
        ("channel.portal_website.visits", 8000.0): "exact",
    }


@pytest.mark.parametrize(
    ("sentence", "key"),
    [
        ("全年发送提醒短信2.3亿条。", ("channel.sms.items_published", 230000000.0)),
        ("服务热线全年接听群众来电1200个。", ("channel.hotline.calls", 1200.0)),
        ("编发手机报24期。", ("channel.mobile_newspaper.items_published", 24.0)),
        ("今日头条号总推荐量45万次。", ("channel.toutiao.impressions", 450000.0)),
    ],
)
def test_single_channels(sentence, key):
    assert key in _facts(sentence)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本乡运用新媒体平台“某某乡人民政府”微信公众号发布信息71条。", {"channel.wechat.items_published": 71.0}),
        ("全年在网站和微信平台公布信息202条，其中网站公布194条，微信公众号公布4条。",
         {"channel.portal_website.items_published": 194.0, "channel.wechat.items_published": 4.0}),
        ("2020年本中心通过某某政府在线主动公开机构职能、政策法规、工作动态等政府信息58条。",
         {"channel.portal_website.items_published": 58.0}),
        ("通过政府门户平台主动公开信息共7件，其中人事信息3件。", {"channel.portal_website.items_published": 7.0}),
        ("共开设新媒体70个。其中微博29个，共发布信息1992条；微信公众号41个，共发布信息3404条。",
         {"channel.weibo.items_published": 1992.0, "channel.wechat.items_published": 3404.0}),
        ("通过门户网站受理依申请公开信息3件。", {}),
        ("1.2020年在县政府门户网站累计公开政府信息数7条。", {"channel.portal_website.items_published": 7.0}),
        ("全年共主动公开政府信息42条，其中通过《某某县政府门户网》发布民生信息、社会管理等各类信息7条。",
         {"channel.portal_website.items_published": 7.0}),
    ],
)
def test_real_channel_phrasings(text, expected):
    got = {metric: value for metric, value in _facts(text)}
    assert got == expected
