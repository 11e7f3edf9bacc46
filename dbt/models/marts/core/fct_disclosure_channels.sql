-- How the agency published: figures per channel stated in the text.
-- Built from narrative metrics named channel.<channel>.<metric>.
-- Grain: report_id x channel x metric.

with

reports as (

    select * from {{ ref('dim_report') }}

),

narrative_facts as (

    select * from {{ ref('stg_ogi__narrative_facts') }}

    where
        starts_with(metric, 'channel.')
        and len(string_split(metric, '.')) = 3

),

final as (

    select

        ---------- contract columns
        narrative_facts.report_id,
        reports.report_year,
        reports.agency_id,
        split_part(narrative_facts.metric, '.', 2) as channel,
        split_part(narrative_facts.metric, '.', 3) as metric,
        narrative_facts.value,
        coalesce(narrative_facts.qualifier <> 'exact', false)
            as is_approximate,
        narrative_facts.evidence,
        narrative_facts.locator,

        ---------- additions
        narrative_facts.qualifier,
        narrative_facts.unit_raw,
        narrative_facts.metric as narrative_metric

    from narrative_facts

    left join reports
        on narrative_facts.report_id = reports.report_id

)

select * from final
