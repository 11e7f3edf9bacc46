-- Every figure stated in sentences, whatever its metric.
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

narrative_facts as (

    select * from {{ ref('stg_ogi__narrative_facts') }}

    where report_id in (select report_id from reports)

),

final as (

    select

        narrative_facts.report_id,
        reports.report_year,
        reports.agency_id,
        narrative_facts.metric,
        narrative_facts.value,
        narrative_facts.unit_raw,
        narrative_facts.qualifier,
        coalesce(narrative_facts.qualifier <> 'exact', false)
            as is_approximate,
        narrative_facts.is_zero_phrase,
        narrative_facts.evidence,
        narrative_facts.locator

    from narrative_facts

    inner join reports
        on narrative_facts.report_id = reports.report_id

)

select * from final
