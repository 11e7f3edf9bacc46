-- One row per report: what is there, what is missing, which rules it breaks, and what the agency
-- should correct (in Chinese, the language of the reports and of the supervising office).
{{
    config(
        materialized='incremental',
        incremental_strategy='ogi_report_replace',
        post_hook="{{ ogi_record_report_state() }}",
    )
}}

with

reports as (

    select * from {{ ref('dim_report') }}

    -- superseded editions stay in raw.* and dim_report only
    where
        is_current
        -- incremental build: the reports whose row is replaced (every report on a full build)
        and {{ ogi_rebuilt('report_id') }}

),

results as (

    select * from {{ ref('fct_rule_results') }}

    where report_id in (select report_id from reports)

),

warnings as (

    select
        report_id,
        count(*) as parse_warnings,
        count(*) filter (where severity = 'warn') as parse_warnings_warn
    from {{ ref('fct_parse_warnings') }}
    where report_id in (select report_id from reports)
    group by report_id

),

-- plain-language correction per rule family (Chinese)
advice (rule_family, advice_zh) as (

    values
        ('t3.balance', '表三收支不平衡：新收申请数+上年结转数应等于办理结果总计+结转下年度继续办理数'),
        ('t3.outcome_sum', '表三办理结果各项之和与办理结果“总计”不符'),
        ('t3.row_total', '表三“总计”列与各类申请人数量之和不符'),
        ('t3.printed_subtotals', '表三小计与其明细之和不符'),
        ('t3.printed_other_group', '表三“（六）其他处理”与其三个子项之和不符'),
        ('t4.group_total', '表四“总计”与结果维持、结果纠正、其他结果、尚未审结之和不符'),
        ('t2.published_le_made', '表二本年新公开数量大于本年新制作数量，请核实'),
        ('t2.total_ge_new', '表二对外公开总数量小于本年新公开数量，请核实'),
        ('t2.procurement_zero_items', '表二政府集中采购项目数量为0但采购总金额不为0，请核实'),
        ('t2.procurement_unit_plausibility', '表二政府集中采购金额平均每项超过10000万元，疑似按“元”而非“万元”填报'),
        ('t2.in_force_nonneg_and_plausible', '表二本年制发件数多于废止件数但现行有效件数为0，请核实'),
        ('nonneg', '统计表中出现负数，数量不能为负'),
        ('integer', '统计表中出现小数，件数应为整数'),
        ('xy.t3.carryover_chain', '表三“上年结转政府信息公开申请数量”与上一年度报告“结转下年度继续办理”不一致'),
        ('nt.t3.new_received', '正文所述收到申请数与表三“本年新收政府信息公开申请数量”不一致'),
        ('nt.t3.processed', '正文所述办结申请数与表三办理结果总计不一致'),
        ('nt.t3.carried', '正文所述结转数与表三“结转下年度继续办理”不一致'),
        ('nt.t4.review', '正文所述行政复议、行政诉讼数与表四不一致'),
        ('nt.t2.normative', '正文所述规范性文件数与表二不一致')

),

failures as (

    select
        results.report_id,
        results.severity,
        results.rule_id,
        results.rule_family,
        results.rule_id
            || coalesce(
                '：' || regexp_replace(cast(results.lhs as varchar), '\.0$', '')
                || ' 对 ' || regexp_replace(cast(results.rhs as varchar), '\.0$', ''),
                ''
            ) as finding
    from results
    where results.status = 'fail'

),

rule_counts as (

    select
        report_id,
        count(*) filter (where status = 'pass') as rules_pass,
        count(*) filter (where status = 'fail') as rules_fail,
        count(*) filter (where status = 'not_assessable') as rules_not_assessable,
        count(*) filter (where status = 'fail' and severity = 'error') as error_failures,
        count(*) filter (where status = 'fail' and severity = 'warn') as warn_failures,
        count(*) filter (where status = 'fail' and severity = 'info') as info_failures,
        string_agg(rule_id, ', ' order by rule_id) filter (where status = 'fail' and severity = 'error') as failed_error_rules,
        string_agg(rule_id, ', ' order by rule_id) filter (where status = 'fail' and severity = 'warn') as failed_warn_rules,
        string_agg(rule_id, ', ' order by rule_id) filter (where status = 'fail' and severity = 'info') as failed_info_rules
    from results
    group by report_id

),

corrections as (

    -- one sentence per failing rule family (error first, then warn); info findings are not listed
    select
        report_id,
        string_agg(correction_zh, '；' order by severity_rank, rule_family) as corrections_zh,
        count(*) as corrections
    from (
        select
            failures.report_id,
            failures.rule_family,
            min(case failures.severity when 'error' then 1 when 'warn' then 2 else 3 end) as severity_rank,
            coalesce(any_value(advice.advice_zh), '规则 ' || failures.rule_family || ' 不成立')
                || '（' || string_agg(failures.finding, '，' order by failures.rule_id) || '）' as correction_zh
        from failures
        left join advice
            on failures.rule_family = advice.rule_family
        where failures.severity in ('error', 'warn')
        group by failures.report_id, failures.rule_family
    ) per_family
    group by report_id

),

carryover as (

    select
        report_id,
        case status
            when 'pass' then 'consistent'
            when 'fail' then 'inconsistent'
            else 'not_checkable'
        end as carryover_status,
        detail as carryover_detail
    from results
    where rule_id = 'xy.t3.carryover_chain.total'

),

final as (

    select

        ---------- ids
        reports.report_id,
        reports.report_year,
        reports.agency_id,
        reports.agency_name,
        reports.template_version,
        reports.parse_status,
        reports.source_path,

        ---------- tables present / absent
        coalesce(reports.has_t2, false) as has_t2,
        coalesce(reports.has_t3, false) as has_t3,
        coalesce(reports.has_t4, false) as has_t4,
        case
            when reports.template_version not in ('v2019', 'v2021') then null
            else nullif(concat_ws(', ',
                case when not coalesce(reports.has_t2, false) then '表二（主动公开）' end,
                case when not coalesce(reports.has_t3, false) then '表三（依申请公开）' end,
                case when not coalesce(reports.has_t4, false) then '表四（复议诉讼）' end
            ), '')
        end as sections_missing,

        ---------- rule outcomes
        coalesce(rule_counts.rules_pass, 0) as rules_pass,
        coalesce(rule_counts.rules_fail, 0) as rules_fail,
        coalesce(rule_counts.rules_not_assessable, 0) as rules_not_assessable,
        coalesce(rule_counts.error_failures, 0) as error_failures,
        coalesce(rule_counts.warn_failures, 0) as warn_failures,
        coalesce(rule_counts.info_failures, 0) as info_failures,
        rule_counts.failed_error_rules,
        rule_counts.failed_warn_rules,
        rule_counts.failed_info_rules,

        ---------- cross-year
        coalesce(carryover.carryover_status, 'not_checkable') as carryover_status,
        carryover.carryover_detail,

        ---------- parser
        coalesce(warnings.parse_warnings, 0) as parse_warnings,
        coalesce(warnings.parse_warnings_warn, 0) as parse_warnings_warn,

        ---------- verdict and what to correct
        case
            when coalesce(rule_counts.error_failures, 0) > 0 then 'errors'
            when coalesce(rule_counts.warn_failures, 0) > 0 then 'warnings'
            when coalesce(rule_counts.rules_pass, 0) = 0 then 'not_assessable'
            else 'ok'
        end as audit_status,
        coalesce(corrections.corrections, 0) as corrections_count,
        corrections.corrections_zh

    from reports

    left join rule_counts
        on reports.report_id = rule_counts.report_id

    left join warnings
        on reports.report_id = warnings.report_id

    left join carryover
        on reports.report_id = carryover.report_id

    left join corrections
        on reports.report_id = corrections.report_id

)

select * from final
