{#-
    The OCR recognition score a front end appended to a locator (", ocr 0.87", ingest/frontends/layout.py);
    NULL for printed text. The literal test comes first: a locator without ", ocr " gives NULL either
    way, and a regular expression run over every cell's locator is far slower than a substring test
    (README, Performance: seventh round).
-#}
{% macro ogi_locator_ocr_confidence(locator) -%}
    case
        when contains({{ locator }}, ', ocr ')
            then try_cast(regexp_extract({{ locator }}, ', ocr ([0-9.]+)', 1) as double)
    end
{%- endmacro %}
