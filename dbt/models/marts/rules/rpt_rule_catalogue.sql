-- Every rule of the catalogue with formula, severity and rationale, and how it fared in this warehouse.
-- Grain: rule_id x identity_id (identity ids carry the template version for within-report rules).

with

catalogue as (

    select * from {{ ref('stg_ogi__rule_catalogue') }}

),

outcomes as (

    select
        rule_id,
        identity_id,
        count(*) as reports_evaluated,
        count(*) filter (where status = 'pass') as reports_pass,
        count(*) filter (where status = 'fail') as reports_fail,
        count(*) filter (where status = 'not_assessable') as reports_not_assessable
    from {{ ref('fct_rule_results') }}
    group by rule_id, identity_id

),

final as (

    select

        ---------- ids
        catalogue.rule_id,
        catalogue.identity_id,
        catalogue.rule_family,

        ---------- definition
        catalogue.severity,
        catalogue.template_version,
        catalogue.scope,
        catalogue.formula,
        catalogue.rationale,
        catalogue.expectation,
        catalogue.is_evaluated,
        catalogue.note,

        ---------- outcomes in this warehouse
        coalesce(outcomes.reports_evaluated, 0) as reports_evaluated,
        coalesce(outcomes.reports_pass, 0) as reports_pass,
        coalesce(outcomes.reports_fail, 0) as reports_fail,
        coalesce(outcomes.reports_not_assessable, 0) as reports_not_assessable

    from catalogue

    left join outcomes
        on catalogue.rule_id = outcomes.rule_id
        and catalogue.identity_id = outcomes.identity_id

)

select * from final
