-- What the parser was unsure of, per report.
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

),

parse_warnings as (

    select * from {{ ref('stg_ogi__parse_warnings') }}

    -- incremental build: the warnings of the reports whose rows are replaced
    where {{ ogi_rebuilt('report_id') }}

),

final as (

    select

        parse_warnings.report_id,
        reports.report_year,
        reports.agency_id,
        parse_warnings.source_sha256,
        parse_warnings.table_id,
        parse_warnings.row_key,
        parse_warnings.code,
        parse_warnings.severity,
        parse_warnings.detail,
        parse_warnings.raw_text,
        parse_warnings.locator

    from parse_warnings

    left join reports
        on parse_warnings.report_id = reports.report_id

)

select * from final
