use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn brl() -> Unit {
    Unit::Money(Currency::parse("BRL").unwrap())
}

/// What the application fetched from gold for "how did last week go?".
fn facts() -> Vec<Fact> {
    vec![
        Fact::new("spend", d("1234.5678"), brl()),
        Fact::new("clicks", d("5321"), Unit::Count),
        Fact::new("impressions", d("250000"), Unit::Count),
        Fact::new("CTR", d("2.1284"), Unit::Percent),
        Fact::new("ROAS", d("3.4567"), Unit::Ratio),
        Fact::new("spend change", d("-12.5"), Unit::Percent),
    ]
}

fn fig(label: &str, value: &str, unit: &str) -> Figure {
    Figure {
        label: label.to_owned(),
        value: d(value),
        unit: unit.to_owned(),
    }
}

fn answer(text: &str, figures: Vec<Figure>) -> ModelAnswer {
    ModelAnswer {
        answer: text.to_owned(),
        figures,
    }
}

fn problems(a: &ModelAnswer) -> Vec<VerificationProblem> {
    verify(a, &facts()).err().unwrap_or_default()
}

// ------------------------------------------------------------------ honest answers

#[test]
fn an_honest_pt_br_answer_passes() {
    let a = answer(
        "Você investiu R$ 1.234,57 e teve 5.321 cliques, com CTR de 2,13%. O ROAS foi 3,46x; \
         o gasto caiu 12,5% em relação à semana anterior.",
        vec![
            fig("spend", "1234.57", "BRL"),
            fig("clicks", "5321", "count"),
            fig("CTR", "2.13", "percent"),
            fig("ROAS", "3.46", "ratio"),
            fig("spend change", "-12.5", "percent"),
        ],
    );
    assert_eq!(verify(&a, &facts()), Ok(()));
}

#[test]
fn an_honest_english_answer_with_coarser_text_passes() {
    let a = answer(
        "You spent $1,234.57 (about 1.2k) for 5,321 clicks out of 250,000 impressions; CTR 2.1%.",
        vec![
            fig("Spend", "1234.57", "money"),
            fig("Clicks", "5321", "count"),
            fig("Impressions", "250000", "count"),
            fig("ctr", "2.13", "%"),
        ],
    );
    assert_eq!(verify(&a, &facts()), Ok(()));
}

#[test]
fn figures_may_be_rounded_to_any_precision_the_model_writes() {
    for v in ["1234.5678", "1234.568", "1234.57", "1234.6", "1235"] {
        let a = answer("", vec![fig("spend", v, "BRL")]);
        assert_eq!(verify(&a, &facts()), Ok(()), "{v}");
    }
}

#[test]
fn a_label_the_data_does_not_use_matches_by_value_and_unit() {
    let a = answer(
        "Investimento: R$ 1.234,57",
        vec![fig("Investimento", "1234.57", "R$")],
    );
    assert_eq!(verify(&a, &facts()), Ok(()));
}

#[test]
fn a_ratio_written_as_percent_and_a_percent_written_as_ratio_are_converted() {
    let a = answer(
        "CTR de 2,13% e ROAS de 345,67%",
        vec![
            fig("CTR", "0.0213", "ratio"),
            fig("ROAS", "345.67", "percent"),
        ],
    );
    assert_eq!(verify(&a, &facts()), Ok(()));
}

#[test]
fn dates_weeks_durations_and_list_markers_are_not_figures() {
    let a = answer(
        "Semana 2026-W47 (de 17 a 23 de novembro de 2026), últimos 7 dias:\n\
         1. Gasto: R$ 1.234,57 (atualizado em 2026-11-24 às 06:00)\n\
         2. Cliques: 5.321",
        vec![
            fig("spend", "1234.57", "BRL"),
            fig("clicks", "5321", "count"),
        ],
    );
    assert_eq!(verify(&a, &facts()), Ok(()));
}

#[test]
fn numbers_in_given_campaign_names_are_not_figures() {
    let a = answer(
        "A campanha Black Friday 2026 - 50% OFF teve 5.321 cliques.",
        vec![fig("clicks", "5321", "count")],
    );
    assert!(verify(&a, &facts()).is_err());
    assert_eq!(
        verify_with_names(&a, &facts(), &["Black Friday 2026 - 50% OFF"]),
        Ok(())
    );
}

// ------------------------------------------------------------------ a lying model

#[test]
fn an_invented_figure_is_caught_and_named() {
    let a = answer(
        "Você teve 87 conversões.",
        vec![fig("conversions", "87", "count")],
    );
    let p = problems(&a);
    assert_eq!(p.len(), 1);
    assert!(
        matches!(&p[0], VerificationProblem::NotInData { label, .. } if label == "conversions")
    );
    assert!(
        p[0].to_string()
            .contains("\"conversions\" = 87 count is not in the data")
    );
}

#[test]
fn a_number_in_the_text_that_is_no_figure_is_caught() {
    let a = answer(
        "Você gastou R$ 1.234,57 e o CPA foi R$ 45,90.",
        vec![fig("spend", "1234.57", "BRL")],
    );
    assert_eq!(
        problems(&a),
        vec![VerificationProblem::NumberNotAFigure {
            written: "R$ 45,90".into()
        }]
    );
    assert!(problems(&a)[0].to_string().contains("\"R$ 45,90\""));
}

#[test]
fn a_wrong_rounding_of_a_figure_is_caught() {
    for v in ["1240", "1234.56", "1234.5"] {
        let a = answer("", vec![fig("spend", v, "BRL")]);
        let p = problems(&a);
        assert!(
            matches!(&p[..], [VerificationProblem::WrongValue { .. }]),
            "{v}: {p:?}"
        );
    }
    let p = problems(&answer("", vec![fig("spend", "1240", "BRL")]));
    assert_eq!(
        p[0].to_string(),
        "figure \"spend\" is 1240 BRL, but the data says 1235 BRL"
    );
}

#[test]
fn text_rounded_differently_from_its_figure_is_caught() {
    let ok = answer("Cerca de R$ 1.235.", vec![fig("spend", "1234.57", "BRL")]);
    assert_eq!(verify(&ok, &facts()), Ok(()));
    let lie = answer("Cerca de R$ 1.240.", vec![fig("spend", "1234.57", "BRL")]);
    assert_eq!(
        problems(&lie),
        vec![VerificationProblem::NumberNotAFigure {
            written: "R$ 1.240".into()
        }]
    );
}

#[test]
fn a_percent_labelled_as_ratio_is_a_unit_mix_up() {
    let a = answer("", vec![fig("CTR", "2.13", "ratio")]);
    let p = problems(&a);
    assert!(
        matches!(&p[..], [VerificationProblem::UnitMismatch { .. }]),
        "{p:?}"
    );
    assert!(p[0].to_string().contains("2.1284 percent"));
    // Also without the label to point at the fact.
    let a = answer("", vec![fig("click rate", "2.13", "ratio")]);
    assert!(matches!(
        &problems(&a)[..],
        [VerificationProblem::UnitMismatch { .. }]
    ));
}

#[test]
fn a_percent_sign_on_a_count_is_caught() {
    let a = answer("CTR de 5.321%", vec![fig("clicks", "5321", "count")]);
    assert_eq!(
        problems(&a),
        vec![VerificationProblem::NumberNotAFigure {
            written: "5.321%".into()
        }]
    );
}

#[test]
fn a_ratio_figure_written_without_conversion_in_the_text_is_caught() {
    // The figure is right (0.0213 ratio = 2.13 %), the prose says 0,02%.
    let a = answer("CTR de 0,02%", vec![fig("CTR", "0.0213", "ratio")]);
    assert_eq!(problems(&a).len(), 1);
}

#[test]
fn money_in_another_currency_is_caught() {
    let a = answer("", vec![fig("spend", "1234.57", "USD")]);
    assert!(matches!(
        &problems(&a)[..],
        [VerificationProblem::CurrencyMismatch { currency, .. }] if currency == "BRL"
    ));
}

#[test]
fn a_swapped_label_is_caught_even_though_the_number_exists() {
    // 250000 is the impressions, not the clicks.
    let a = answer(
        "Foram 250.000 cliques.",
        vec![fig("clicks", "250000", "count")],
    );
    assert!(matches!(
        &problems(&a)[..],
        [VerificationProblem::WrongValue { expected, .. }] if expected == "5321 count"
    ));
}

#[test]
fn a_negative_number_in_the_text_needs_a_negative_figure() {
    let a = answer("ROAS de -3,46x", vec![fig("ROAS", "3.46", "ratio")]);
    assert_eq!(problems(&a).len(), 1);
    let b = answer(
        "variação de -12,5%",
        vec![fig("spend change", "-12.5", "percent")],
    );
    assert_eq!(verify(&b, &facts()), Ok(()));
}

#[test]
fn an_unknown_unit_is_reported() {
    let a = answer("", vec![fig("spend", "1234.57", "reais brasileiros")]);
    assert!(matches!(
        &problems(&a)[..],
        [VerificationProblem::UnknownUnit { .. }]
    ));
}

#[test]
fn every_problem_is_reported_at_once() {
    let a = answer(
        "Gasto R$ 2.000,00, 99 conversões e CTR 9%.",
        vec![fig("spend", "2000.00", "BRL"), fig("CTR", "9", "percent")],
    );
    assert_eq!(problems(&a).len(), 3, "{:?}", problems(&a));
}

/// A fake model that lies, driven the way the chat use case will drive the
/// real one: verify, retry once with the problems, then fall back.
#[test]
fn a_model_that_lies_twice_gets_the_honest_fallback() {
    let replies = [
        r#"{"answer":"Você gastou R$ 1.500,00.","figures":[{"label":"spend","value":1500.00,"unit":"BRL"}]}"#,
        r#"{"answer":"Você gastou R$ 1.234,57 e vendeu 40 itens.","figures":[{"label":"spend","value":1234.57,"unit":"BRL"}]}"#,
    ];
    let facts = facts();
    let mut shown = None;
    let mut feedback = Vec::new();
    for reply in replies {
        let parsed = ModelAnswer::parse(reply).unwrap();
        match verify(&parsed, &facts) {
            Ok(()) => {
                shown = Some(parsed.answer);
                break;
            }
            Err(p) => feedback.push(retry_instructions(&p)),
        }
    }
    let shown = shown.unwrap_or_else(|| unverified_answer(&facts));
    assert!(feedback[0].contains("figure \"spend\" is 1500.00 BRL, but the data says 1234.57 BRL"));
    assert!(feedback[1].contains("\"40\""));
    assert!(shown.starts_with("I could not verify the figures in my answer"));
    assert!(shown.contains("- spend: 1234.5678 BRL"));
    assert!(shown.contains("- CTR: 2.1284%"));
}

#[test]
fn a_model_that_corrects_itself_on_retry_is_shown() {
    let first =
        r#"{"answer":"CTR de 2,2%","figures":[{"label":"CTR","value":2.2,"unit":"percent"}]}"#;
    let second =
        r#"{"answer":"CTR de 2,1%","figures":[{"label":"CTR","value":2.1,"unit":"percent"}]}"#;
    assert!(verify(&ModelAnswer::parse(first).unwrap(), &facts()).is_err());
    assert_eq!(
        verify(&ModelAnswer::parse(second).unwrap(), &facts()),
        Ok(())
    );
}

// ------------------------------------------------------------------ parsing and schema

#[test]
fn parse_keeps_the_decimals_the_model_wrote() {
    let a = ModelAnswer::parse(
        r#"{"answer":"x","figures":[{"label":"spend","value":1234.50,"unit":"BRL"},{"label":"n","value":"12.5","unit":"count"},{"label":"tiny","value":1.5e-3,"unit":"ratio"}],"extra":1}"#,
    )
    .unwrap();
    assert_eq!(a.figures[0].value.scale(), 2);
    assert_eq!(a.figures[0].value, d("1234.5"));
    assert_eq!(a.figures[1].value, d("12.5"));
    assert_eq!(a.figures[2].value, d("0.0015"));
}

#[test]
fn parse_accepts_code_fences_and_surrounding_text() {
    let fenced = "```json\n{\"answer\":\"ok\",\"figures\":[]}\n```";
    assert_eq!(ModelAnswer::parse(fenced).unwrap().answer, "ok");
    let chatty = "Here you go: {\"answer\":\"ok\",\"figures\":[]} Hope it helps!";
    assert_eq!(ModelAnswer::parse(chatty).unwrap().answer, "ok");
}

#[test]
fn parse_rejects_the_wrong_shape_with_a_readable_reason() {
    let cases = [
        ("not json", "one JSON object"),
        (r#"{"answer":"x"}"#, "no \"figures\""),
        (
            r#"{"answer":1,"figures":[]}"#,
            "\"answer\" must be a string",
        ),
        (
            r#"{"answer":"x","figures":[{"label":"a","value":"lots","unit":"count"}]}"#,
            "value of figure 1 must be a number",
        ),
        (
            r#"{"answer":"x","figures":[{"label":"a","value":1}]}"#,
            "figure 1 has no \"unit\"",
        ),
    ];
    for (reply, why) in cases {
        let e = ModelAnswer::parse(reply).unwrap_err();
        assert!(e.to_string().contains(why), "{reply}: {e}");
    }
}

#[test]
fn the_schema_is_strict() {
    let s = answer_schema();
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(s["required"], serde_json::json!(["answer", "figures"]));
    let item = &s["properties"]["figures"]["items"];
    assert_eq!(item["additionalProperties"], false);
    assert_eq!(
        item["required"],
        serde_json::json!(["label", "value", "unit"])
    );
    assert_eq!(item["properties"]["value"]["type"], "number");
    assert_eq!(answer_json_schema().name, ANSWER_SCHEMA_NAME);
}

#[test]
fn the_fallback_says_so_when_there_is_no_data() {
    assert!(unverified_answer(&[]).contains("no figures in your data"));
}

#[test]
fn a_realistic_markdown_answer_is_checked_number_by_number() {
    let a = answer(
        "## Resumo da semana (17/11 a 23/11)\n\n\
         Sua conta investiu **R$ 1.234,57** e gerou **5.321 cliques** em 250 mil impressões, \
         com CTR de **2,13 %** e ROAS de **3,46x**.\n\n\
         - O investimento caiu −12,5% em relação aos 7 dias anteriores.\n\
         - Em 2026, a 1ª semana com CTR perto de 2% foi a 2026-W47, acima da meta de 1,5%.\n",
        vec![
            fig("spend", "1234.57", "BRL"),
            fig("clicks", "5321", "count"),
            fig("impressions", "250000", "count"),
            fig("CTR", "2.13", "percent"),
            fig("ROAS", "3.46", "ratio"),
            fig("spend change", "-12.5", "percent"),
        ],
    );
    // "2%" is the CTR rounded to units (allowed); "1,5%" is a goal the model
    // made up, not a figure: caught.
    assert_eq!(
        problems(&a),
        vec![VerificationProblem::NumberNotAFigure {
            written: "1,5%".into()
        }]
    );
}
