-- Outcomes of the accounting rules, per report (written by the Python validation step).
-- Grain: report_id x rule_id.
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
        -- incremental build: the reports whose rows are replaced (every report on a full build)
        and {{ ogi_rebuilt('report_id') }}

),

rule_results as (

    select * from {{ ref('stg_ogi__rule_results') }}

    where report_id in (select report_id from reports)

),

final as (

    select

        ---------- contract columns
        rule_results.report_id,
        reports.report_year,
        reports.agency_id,
        rule_results.rule_id,
        rule_results.rule_family,
        rule_results.identity_id,
        rule_results.severity,
        rule_results.status,
        rule_results.lhs,
        rule_results.rhs,
        rule_results.detail,
        rule_results.expectation

    from rule_results

    inner join reports
        on rule_results.report_id = reports.report_id

)

select * from final
