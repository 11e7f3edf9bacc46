{#-
    Fails for every combination of `combination_of_columns` that occurs more than once
    (the composite grain of a model). NULLs compare equal, as in GROUP BY.

        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [report_id, rule_id]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set column_list = combination_of_columns | join(', ') %}

with

grouped as (

    select
        {{ column_list }},
        count(*) as n_rows

    from {{ model }}

    group by {{ column_list }}

)

select * from grouped

where n_rows > 1

{% endtest %}
