"""Fictional clinical studies in ClinicalTrials.gov API v2 JSON shape.

This module owns the demo and benchmark data set: `trialfinder demo-data` loads a few
hundred of these studies into an empty site, and the benchmarks load 100,000. The records
use the exact key names and value styles of the real API v2 (enum statuses, "18 Years"
ages, "YYYY-MM" or "YYYY-MM-DD" dates, messy eligibility text, sites with and without
status, contacts or coordinates) so the importer, search and geo code are exercised the
way real data exercises them.

Every study is clearly fictional: NCT IDs are "NCT9" + 7 digits (a range the registry has
not reached), institutions, sponsors, people and drugs are invented, phone numbers sit in
reserved fictional ranges (US 555-01xx), e-mail addresses use the example.* domains, and
every brief summary says in plain words that the study is a fictional demonstration.
Only the city coordinates and condition names are real, so that distance search and
condition search behave realistically. No text is taken from real registry records.

Output depends only on `seed`: one `random.Random(seed)` stream, no global random state,
and dates relative to the fixed reference day `REFERENCE_DATE`, never today's date.
The vocabulary is precomputed into module-level tuples and random draws go through cheap
`random()`-based helpers, so 100,000 studies take about 5 s of CPU when streamed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from app.studies.rules import OPEN_STATUSES

__all__ = ["MAX_STUDIES", "REFERENCE_DATE", "generate_studies", "nct_id", "vocabulary_sizes"]

REFERENCE_DATE = dt.date(2026, 11, 1)
"""All generated dates are placed relative to this fixed day, so output is deterministic."""

MAX_STUDIES = 10_000_000
"""NCT9 + 7 digits leaves room for this many unique IDs in one run."""

T = TypeVar("T")


class _Weighted(Generic[T]):
    """A weighted choice table: one `random()` call and a bisect per pick."""

    __slots__ = ("_cum", "_total", "_values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        values: list[T] = []
        cum: list[float] = []
        total = 0.0
        for value, weight in pairs:
            if weight <= 0:
                continue
            total += weight
            values.append(value)
            cum.append(total)
        if not values:
            raise ValueError("a weighted table needs at least one positive weight")
        self._values: tuple[T, ...] = tuple(values)
        self._cum: tuple[float, ...] = tuple(cum)
        self._total = total

    @property
    def values(self) -> tuple[T, ...]:
        return self._values

    def pick(self, rng: random.Random) -> T:
        return self._values[bisect.bisect(self._cum, rng.random() * self._total)]


class _FastRandom(random.Random):
    """`random.Random` plus cheap helpers built on `random()` alone.

    The stock `randrange`/`choice`/`sample` cost about 1.5 us each; these cost a tenth of
    that, which matters at 100,000 studies. The float-to-index bias is far below anything
    a demo data set could show.
    """

    def below(self, n: int) -> int:
        """An int in [0, n)."""
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        """An int in [low, high], both ends included."""
        return low + int(self.random() * (high - low + 1))

    def one(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def some(self, seq: Sequence[T], k: int) -> list[T]:
        """`k` distinct items of `seq` in random order (partial Fisher-Yates)."""
        pool = list(seq)
        n = len(pool)
        k = min(k, n)
        rnd = self.random
        for i in range(k):
            j = i + int(rnd() * (n - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


# --------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------

# Ancestor groups: group key -> (domain, MeSH-style ancestor terms). The domain decides
# which conditions may be listed together in one study.
_ANCESTOR_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lung_cancer": (
        "oncology",
        (
            "Lung Neoplasms",
            "Respiratory Tract Neoplasms",
            "Thoracic Neoplasms",
            "Neoplasms by Site",
            "Neoplasms",
            "Lung Diseases",
            "Respiratory Tract Diseases",
        ),
    ),
    "breast": (
        "oncology",
        (
            "Neoplasms by Site",
            "Neoplasms",
            "Breast Diseases",
            "Skin and Connective Tissue Diseases",
        ),
    ),
    "gi_cancer": (
        "oncology",
        (
            "Digestive System Neoplasms",
            "Neoplasms by Site",
            "Neoplasms",
            "Digestive System Diseases",
            "Gastrointestinal Diseases",
        ),
    ),
    "gyn_cancer": (
        "oncology",
        (
            "Genital Neoplasms, Female",
            "Urogenital Neoplasms",
            "Neoplasms by Site",
            "Neoplasms",
            "Genital Diseases, Female",
            "Female Urogenital Diseases",
        ),
    ),
    "male_cancer": (
        "oncology",
        (
            "Genital Neoplasms, Male",
            "Urogenital Neoplasms",
            "Neoplasms by Site",
            "Neoplasms",
            "Prostatic Diseases",
            "Male Urogenital Diseases",
        ),
    ),
    "uro_cancer": (
        "oncology",
        (
            "Urologic Neoplasms",
            "Urogenital Neoplasms",
            "Neoplasms by Site",
            "Neoplasms",
            "Urologic Diseases",
        ),
    ),
    "skin_cancer": (
        "oncology",
        ("Neuroendocrine Tumors", "Neoplasms by Histologic Type", "Neoplasms", "Skin Diseases"),
    ),
    "brain_cancer": (
        "oncology",
        (
            "Neoplasms, Neuroepithelial",
            "Brain Neoplasms",
            "Nervous System Neoplasms",
            "Neoplasms",
            "Brain Diseases",
            "Central Nervous System Diseases",
            "Nervous System Diseases",
        ),
    ),
    "hn_cancer": ("oncology", ("Head and Neck Neoplasms", "Neoplasms by Site", "Neoplasms")),
    "heme_cancer": (
        "oncology",
        (
            "Neoplasms by Histologic Type",
            "Neoplasms",
            "Hematologic Diseases",
            "Lymphoproliferative Disorders",
            "Immunoproliferative Disorders",
            "Immune System Diseases",
        ),
    ),
    "child_cancer": (
        "oncology",
        ("Neoplasms, Germ Cell and Embryonal", "Neoplasms by Histologic Type", "Neoplasms"),
    ),
    "endocrine_cancer": (
        "oncology",
        (
            "Endocrine Gland Neoplasms",
            "Neoplasms by Site",
            "Neoplasms",
            "Thyroid Diseases",
            "Endocrine System Diseases",
        ),
    ),
    "sarcoma": (
        "oncology",
        (
            "Neoplasms, Bone Tissue",
            "Neoplasms, Connective Tissue",
            "Neoplasms by Histologic Type",
            "Neoplasms",
        ),
    ),
    "diabetes": (
        "metabolic",
        (
            "Diabetes Mellitus",
            "Endocrine System Diseases",
            "Glucose Metabolism Disorders",
            "Metabolic Diseases",
            "Nutritional and Metabolic Diseases",
        ),
    ),
    "diabetes_complication": (
        "metabolic",
        (
            "Diabetes Complications",
            "Diabetes Mellitus",
            "Endocrine System Diseases",
            "Peripheral Nervous System Diseases",
            "Nervous System Diseases",
        ),
    ),
    "weight": (
        "metabolic",
        (
            "Overnutrition",
            "Nutrition Disorders",
            "Overweight",
            "Body Weight",
            "Nutritional and Metabolic Diseases",
        ),
    ),
    "lipid": (
        "metabolic",
        (
            "Hyperlipidemias",
            "Dyslipidemias",
            "Lipid Metabolism Disorders",
            "Metabolic Diseases",
            "Nutritional and Metabolic Diseases",
        ),
    ),
    "thyroid": ("metabolic", ("Thyroid Diseases", "Endocrine System Diseases")),
    "bone": (
        "musculoskeletal",
        ("Bone Diseases, Metabolic", "Bone Diseases", "Musculoskeletal Diseases"),
    ),
    "heart": ("cardiovascular", ("Heart Diseases", "Cardiovascular Diseases")),
    "arrhythmia": (
        "cardiovascular",
        ("Arrhythmias, Cardiac", "Heart Diseases", "Cardiovascular Diseases"),
    ),
    "ischemia": (
        "cardiovascular",
        (
            "Myocardial Ischemia",
            "Heart Diseases",
            "Vascular Diseases",
            "Cardiovascular Diseases",
        ),
    ),
    "vascular": ("cardiovascular", ("Vascular Diseases", "Cardiovascular Diseases")),
    "cerebrovascular": (
        "cardiovascular",
        (
            "Cerebrovascular Disorders",
            "Brain Diseases",
            "Central Nervous System Diseases",
            "Nervous System Diseases",
            "Vascular Diseases",
            "Cardiovascular Diseases",
        ),
    ),
    "congenital_heart": (
        "cardiovascular",
        (
            "Cardiovascular Abnormalities",
            "Heart Diseases",
            "Cardiovascular Diseases",
            "Congenital Abnormalities",
        ),
    ),
    "obstructive_lung": (
        "respiratory",
        (
            "Lung Diseases, Obstructive",
            "Lung Diseases",
            "Respiratory Tract Diseases",
            "Respiratory Hypersensitivity",
        ),
    ),
    "lung": ("respiratory", ("Lung Diseases", "Respiratory Tract Diseases")),
    "interstitial_lung": (
        "respiratory",
        (
            "Pulmonary Fibrosis",
            "Lung Diseases, Interstitial",
            "Lung Diseases",
            "Respiratory Tract Diseases",
        ),
    ),
    "genetic": (
        "genetic",
        (
            "Genetic Diseases, Inborn",
            "Congenital, Hereditary, and Neonatal Diseases and Abnormalities",
        ),
    ),
    "sleep": (
        "neuro",
        ("Sleep Wake Disorders", "Nervous System Diseases", "Mental Disorders"),
    ),
    "dementia": (
        "neuro",
        (
            "Dementia",
            "Brain Diseases",
            "Neurodegenerative Diseases",
            "Neurocognitive Disorders",
            "Mental Disorders",
            "Central Nervous System Diseases",
            "Nervous System Diseases",
        ),
    ),
    "neurodegenerative": (
        "neuro",
        (
            "Neurodegenerative Diseases",
            "Brain Diseases",
            "Central Nervous System Diseases",
            "Nervous System Diseases",
        ),
    ),
    "demyelinating": (
        "neuro",
        (
            "Demyelinating Autoimmune Diseases, CNS",
            "Autoimmune Diseases of the Nervous System",
            "Central Nervous System Diseases",
            "Nervous System Diseases",
            "Autoimmune Diseases",
            "Immune System Diseases",
        ),
    ),
    "brain": (
        "neuro",
        ("Brain Diseases", "Central Nervous System Diseases", "Nervous System Diseases"),
    ),
    "headache": (
        "neuro",
        (
            "Headache Disorders, Primary",
            "Headache Disorders",
            "Brain Diseases",
            "Central Nervous System Diseases",
            "Nervous System Diseases",
        ),
    ),
    "pain": ("neuro", ("Pain", "Neurologic Manifestations", "Nervous System Diseases")),
    "mood": ("mental", ("Mood Disorders", "Mental Disorders")),
    "anxiety": ("mental", ("Anxiety Disorders", "Mental Disorders")),
    "trauma": ("mental", ("Trauma and Stressor Related Disorders", "Mental Disorders")),
    "psychosis": (
        "mental",
        ("Schizophrenia Spectrum and Other Psychotic Disorders", "Mental Disorders"),
    ),
    "neurodevelopmental": ("mental", ("Neurodevelopmental Disorders", "Mental Disorders")),
    "substance": (
        "mental",
        ("Substance-Related Disorders", "Chemically-Induced Disorders", "Mental Disorders"),
    ),
    "ibd": (
        "digestive",
        (
            "Inflammatory Bowel Diseases",
            "Gastroenteritis",
            "Intestinal Diseases",
            "Gastrointestinal Diseases",
            "Digestive System Diseases",
        ),
    ),
    "gi": ("digestive", ("Gastrointestinal Diseases", "Digestive System Diseases")),
    "liver": ("digestive", ("Liver Diseases", "Digestive System Diseases")),
    "autoimmune": ("immune", ("Autoimmune Diseases", "Immune System Diseases")),
    "connective": (
        "immune",
        ("Connective Tissue Diseases", "Skin and Connective Tissue Diseases"),
    ),
    "rheumatic": (
        "immune",
        (
            "Joint Diseases",
            "Musculoskeletal Diseases",
            "Rheumatic Diseases",
            "Connective Tissue Diseases",
        ),
    ),
    "osteoarthritis": (
        "musculoskeletal",
        ("Osteoarthritis", "Arthritis", "Joint Diseases", "Musculoskeletal Diseases"),
    ),
    "muscle": ("musculoskeletal", ("Muscular Diseases", "Musculoskeletal Diseases")),
    "injury": ("musculoskeletal", ("Wounds and Injuries",)),
    "skin": ("skin", ("Skin Diseases", "Skin and Connective Tissue Diseases")),
    "hypersensitivity": ("skin", ("Hypersensitivity, Immediate", "Hypersensitivity")),
    "viral": ("infection", ("Virus Diseases", "Infections")),
    "bacterial": ("infection", ("Bacterial Infections", "Bacterial Infections and Mycoses")),
    "parasitic": ("infection", ("Protozoan Infections", "Parasitic Diseases", "Infections")),
    "inflammation": ("infection", ("Systemic Inflammatory Response Syndrome", "Inflammation")),
    "kidney": ("renal", ("Kidney Diseases", "Urologic Diseases", "Urogenital Diseases")),
    "urologic": ("renal", ("Urologic Diseases", "Urogenital Diseases")),
    "male_genital": (
        "renal",
        ("Prostatic Diseases", "Genital Diseases, Male", "Male Urogenital Diseases"),
    ),
    "eye": ("sensory", ("Eye Diseases",)),
    "retina": ("sensory", ("Retinal Diseases", "Eye Diseases")),
    "ear": (
        "sensory",
        ("Ear Diseases", "Otorhinolaryngologic Diseases", "Hearing Disorders"),
    ),
    "labyrinth": (
        "sensory",
        ("Labyrinth Diseases", "Ear Diseases", "Otorhinolaryngologic Diseases"),
    ),
    "blood": ("blood", ("Hematologic Diseases",)),
    "anemia": ("blood", ("Anemia", "Hematologic Diseases")),
    "pregnancy": (
        "womens_health",
        ("Pregnancy Complications", "Female Urogenital Diseases and Pregnancy Complications"),
    ),
    "gyn": (
        "womens_health",
        (
            "Genital Diseases, Female",
            "Female Urogenital Diseases",
            "Female Urogenital Diseases and Pregnancy Complications",
        ),
    ),
    "neonatal": (
        "neonatal",
        ("Infant, Newborn, Diseases", "Infant, Premature, Diseases"),
    ),
}

# (name, MeSH term, ancestor groups, age profile, required sex, weight, keywords)
# Age profiles: adult, child, mixed (children and adults), older, repro (childbearing age).
_CONDITION_ROWS: tuple[
    tuple[str, str, tuple[str, ...], str, str | None, float, tuple[str, ...]], ...
] = (
    # Oncology
    ("Breast Cancer", "Breast Neoplasms", ("breast",), "adult", "FEMALE", 8.0,
     ("HER2-positive", "hormone receptor positive", "metastatic", "adjuvant therapy")),
    ("Triple Negative Breast Cancer", "Triple Negative Breast Neoplasms", ("breast",), "adult",
     "FEMALE", 2.0, ("TNBC", "neoadjuvant", "immunotherapy")),
    ("Non-small Cell Lung Cancer", "Carcinoma, Non-Small-Cell Lung", ("lung_cancer",), "adult",
     None, 7.0, ("NSCLC", "EGFR mutation", "PD-L1", "targeted therapy")),
    ("Small Cell Lung Cancer", "Small Cell Lung Carcinoma", ("lung_cancer",), "adult", None, 1.5,
     ("SCLC", "extensive stage")),
    ("Colorectal Cancer", "Colorectal Neoplasms", ("gi_cancer",), "adult", None, 5.0,
     ("colon cancer", "rectal cancer", "KRAS", "screening")),
    ("Pancreatic Cancer", "Pancreatic Neoplasms", ("gi_cancer",), "adult", None, 3.0,
     ("pancreatic ductal adenocarcinoma", "chemotherapy")),
    ("Hepatocellular Carcinoma", "Carcinoma, Hepatocellular", ("gi_cancer", "liver"), "adult",
     None, 2.5, ("HCC", "liver cancer")),
    ("Gastric Cancer", "Stomach Neoplasms", ("gi_cancer",), "adult", None, 2.5,
     ("stomach cancer", "gastroesophageal junction")),
    ("Esophageal Squamous Cell Carcinoma", "Esophageal Squamous Cell Carcinoma", ("gi_cancer",),
     "adult", None, 1.0, ("esophageal cancer", "chemoradiotherapy")),
    ("Prostate Cancer", "Prostatic Neoplasms", ("male_cancer",), "adult", "MALE", 5.0,
     ("castration-resistant", "PSA", "androgen deprivation")),
    ("Ovarian Cancer", "Ovarian Neoplasms", ("gyn_cancer",), "adult", "FEMALE", 2.5,
     ("BRCA", "PARP inhibitor", "platinum-resistant")),
    ("Cervical Cancer", "Uterine Cervical Neoplasms", ("gyn_cancer",), "adult", "FEMALE", 2.0,
     ("HPV", "screening")),
    ("Endometrial Cancer", "Endometrial Neoplasms", ("gyn_cancer",), "adult", "FEMALE", 1.5,
     ("uterine cancer",)),
    ("Renal Cell Carcinoma", "Carcinoma, Renal Cell", ("uro_cancer", "kidney"), "adult", None,
     2.0, ("kidney cancer", "clear cell")),
    ("Bladder Cancer", "Urinary Bladder Neoplasms", ("uro_cancer",), "adult", None, 2.0,
     ("urothelial carcinoma", "BCG")),
    ("Melanoma", "Melanoma", ("skin_cancer",), "adult", None, 3.0,
     ("BRAF", "checkpoint inhibitor", "skin cancer")),
    ("Glioblastoma", "Glioblastoma", ("brain_cancer",), "adult", None, 2.0,
     ("brain tumor", "temozolomide", "glioma")),
    ("Head and Neck Squamous Cell Carcinoma", "Squamous Cell Carcinoma of Head and Neck",
     ("hn_cancer",), "adult", None, 2.0, ("HNSCC", "oropharyngeal cancer", "radiotherapy")),
    ("Multiple Myeloma", "Multiple Myeloma", ("heme_cancer",), "older", None, 3.0,
     ("relapsed", "refractory", "CAR-T")),
    ("Diffuse Large B-Cell Lymphoma", "Lymphoma, Large B-Cell, Diffuse", ("heme_cancer",),
     "adult", None, 2.5, ("DLBCL", "non-Hodgkin lymphoma", "CAR-T")),
    ("Acute Myeloid Leukemia", "Leukemia, Myeloid, Acute", ("heme_cancer",), "adult", None, 3.0,
     ("AML", "FLT3", "stem cell transplant")),
    ("Chronic Lymphocytic Leukemia", "Leukemia, Lymphocytic, Chronic, B-Cell", ("heme_cancer",),
     "older", None, 1.5, ("CLL", "BTK inhibitor")),
    ("Hodgkin Lymphoma", "Hodgkin Disease", ("heme_cancer",), "mixed", None, 1.0,
     ("classical Hodgkin lymphoma",)),
    ("Acute Lymphoblastic Leukemia", "Precursor Cell Lymphoblastic Leukemia-Lymphoma",
     ("heme_cancer",), "mixed", None, 2.0,
     ("ALL", "pediatric leukemia", "minimal residual disease")),
    ("Neuroblastoma", "Neuroblastoma", ("child_cancer",), "child", None, 1.0,
     ("pediatric oncology", "high-risk neuroblastoma")),
    ("Wilms Tumor", "Wilms Tumor", ("child_cancer", "kidney"), "child", None, 0.5,
     ("nephroblastoma", "pediatric oncology")),
    ("Thyroid Cancer", "Thyroid Neoplasms", ("endocrine_cancer",), "adult", None, 1.0,
     ("differentiated thyroid cancer", "radioactive iodine")),
    ("Osteosarcoma", "Osteosarcoma", ("sarcoma",), "mixed", None, 0.7,
     ("bone cancer", "sarcoma")),
    # Metabolic and endocrine
    ("Type 2 Diabetes Mellitus", "Diabetes Mellitus, Type 2", ("diabetes",), "adult", None, 8.0,
     ("glycemic control", "HbA1c", "insulin resistance", "GLP-1")),
    ("Type 1 Diabetes", "Diabetes Mellitus, Type 1", ("diabetes", "autoimmune"), "mixed", None,
     3.0, ("insulin pump", "continuous glucose monitoring", "closed loop")),
    ("Gestational Diabetes", "Diabetes, Gestational", ("pregnancy", "diabetes"), "repro",
     "FEMALE", 1.0, ("pregnancy", "glucose tolerance")),
    ("Obesity", "Obesity", ("weight",), "adult", None, 5.0,
     ("weight loss", "body mass index", "lifestyle intervention")),
    ("Childhood Obesity", "Pediatric Obesity", ("weight",), "child", None, 1.0,
     ("family-based treatment", "physical activity")),
    ("Hypercholesterolemia", "Hypercholesterolemia", ("lipid",), "adult", None, 2.0,
     ("LDL cholesterol", "PCSK9", "statin")),
    ("Nonalcoholic Steatohepatitis", "Non-alcoholic Fatty Liver Disease", ("liver", "weight"),
     "adult", None, 2.0, ("NASH", "MASH", "liver fibrosis")),
    ("Hypothyroidism", "Hypothyroidism", ("thyroid",), "adult", None, 1.0,
     ("levothyroxine", "thyroid function")),
    ("Graves' Disease", "Graves Disease", ("thyroid", "autoimmune"), "adult", None, 0.5,
     ("hyperthyroidism", "thyroid eye disease")),
    ("Osteoporosis", "Osteoporosis", ("bone",), "older", None, 2.0,
     ("bone mineral density", "fracture prevention", "postmenopausal")),
    ("Polycystic Ovary Syndrome", "Polycystic Ovary Syndrome", ("gyn", "thyroid"), "repro",
     "FEMALE", 1.0, ("PCOS", "insulin resistance", "ovulation")),
    ("Gout", "Gout", ("rheumatic",), "adult", None, 0.7, ("uric acid", "flare")),
    # Cardiovascular
    ("Hypertension", "Hypertension", ("vascular",), "adult", None, 5.0,
     ("blood pressure", "antihypertensive", "home monitoring")),
    ("Heart Failure", "Heart Failure", ("heart",), "adult", None, 4.0,
     ("HFrEF", "HFpEF", "ejection fraction", "cardiac rehabilitation")),
    ("Atrial Fibrillation", "Atrial Fibrillation", ("arrhythmia",), "adult", None, 3.0,
     ("anticoagulation", "catheter ablation", "stroke prevention")),
    ("Coronary Artery Disease", "Coronary Artery Disease", ("ischemia",), "adult", None, 3.0,
     ("PCI", "stent", "angina")),
    ("Acute Myocardial Infarction", "Myocardial Infarction", ("ischemia",), "adult", None, 1.5,
     ("heart attack", "STEMI")),
    ("Stroke", "Stroke", ("cerebrovascular",), "older", None, 4.0,
     ("ischemic stroke", "thrombectomy", "rehabilitation", "aphasia")),
    ("Peripheral Artery Disease", "Peripheral Arterial Disease", ("vascular",), "older", None,
     1.0, ("claudication", "revascularization")),
    ("Pulmonary Arterial Hypertension", "Pulmonary Arterial Hypertension",
     ("vascular", "lung"), "adult", None, 1.0, ("PAH", "six-minute walk")),
    ("Venous Thromboembolism", "Venous Thromboembolism", ("vascular",), "adult", None, 1.0,
     ("deep vein thrombosis", "pulmonary embolism", "anticoagulant")),
    ("Congenital Heart Disease", "Heart Defects, Congenital", ("congenital_heart",), "child",
     None, 0.7, ("pediatric cardiology", "Fontan")),
    # Respiratory
    ("Asthma", "Asthma", ("obstructive_lung",), "mixed", None, 4.0,
     ("inhaled corticosteroid", "biologic", "exacerbation", "eosinophilic asthma")),
    ("Chronic Obstructive Pulmonary Disease", "Pulmonary Disease, Chronic Obstructive",
     ("obstructive_lung",), "older", None, 3.0, ("COPD", "bronchodilator", "exacerbation")),
    ("Idiopathic Pulmonary Fibrosis", "Idiopathic Pulmonary Fibrosis", ("interstitial_lung",),
     "older", None, 1.5, ("IPF", "antifibrotic", "lung function")),
    ("Cystic Fibrosis", "Cystic Fibrosis", ("genetic", "lung"), "mixed", None, 1.0,
     ("CFTR modulator", "sweat chloride")),
    ("Obstructive Sleep Apnea", "Sleep Apnea, Obstructive", ("sleep",), "adult", None, 1.5,
     ("CPAP", "snoring")),
    ("Bronchiolitis", "Bronchiolitis", ("lung",), "child", None, 0.5,
     ("infant", "high-flow oxygen")),
    ("Community-acquired Pneumonia", "Pneumonia", ("lung", "bacterial"), "adult", None, 1.0,
     ("antibiotics", "hospitalized adults")),
    # Neurology and mental health
    ("Alzheimer Disease", "Alzheimer Disease", ("dementia",), "older", None, 4.0,
     ("amyloid", "mild cognitive impairment", "memory", "caregiver")),
    ("Parkinson Disease", "Parkinson Disease", ("neurodegenerative",), "older", None, 3.0,
     ("tremor", "levodopa", "deep brain stimulation", "gait")),
    ("Multiple Sclerosis", "Multiple Sclerosis", ("demyelinating",), "adult", None, 2.5,
     ("relapsing-remitting", "MRI lesions", "disability progression")),
    ("Amyotrophic Lateral Sclerosis", "Amyotrophic Lateral Sclerosis", ("neurodegenerative",),
     "adult", None, 1.5, ("ALS", "motor neuron disease")),
    ("Epilepsy", "Epilepsy", ("brain",), "mixed", None, 2.0,
     ("seizures", "drug-resistant epilepsy", "focal seizures")),
    ("Migraine", "Migraine Disorders", ("headache",), "adult", None, 2.0,
     ("headache", "CGRP", "prevention")),
    ("Huntington Disease", "Huntington Disease", ("neurodegenerative", "genetic"), "adult", None,
     0.5, ("chorea", "huntingtin")),
    ("Major Depressive Disorder", "Depressive Disorder, Major", ("mood",), "adult", None, 4.0,
     ("depression", "treatment-resistant depression", "psychotherapy", "antidepressant")),
    ("Bipolar Disorder", "Bipolar Disorder", ("mood",), "adult", None, 1.5,
     ("mania", "mood stabilizer")),
    ("Generalized Anxiety Disorder", "Anxiety Disorders", ("anxiety",), "adult", None, 1.5,
     ("anxiety", "cognitive behavioral therapy", "worry")),
    ("Post-traumatic Stress Disorder", "Stress Disorders, Post-Traumatic", ("trauma",), "adult",
     None, 1.5, ("PTSD", "veterans", "trauma-focused therapy")),
    ("Schizophrenia", "Schizophrenia", ("psychosis",), "adult", None, 2.0,
     ("psychosis", "antipsychotic", "negative symptoms")),
    ("Autism Spectrum Disorder", "Autism Spectrum Disorder", ("neurodevelopmental",), "child",
     None, 1.5, ("autism", "social communication", "parent training")),
    ("Attention Deficit Hyperactivity Disorder", "Attention Deficit Disorder with Hyperactivity",
     ("neurodevelopmental",), "child", None, 1.5, ("ADHD", "attention", "stimulant")),
    ("Opioid Use Disorder", "Opioid-Related Disorders", ("substance",), "adult", None, 2.0,
     ("buprenorphine", "methadone", "overdose prevention")),
    ("Alcohol Use Disorder", "Alcoholism", ("substance",), "adult", None, 1.5,
     ("alcohol", "relapse prevention")),
    ("Insomnia", "Sleep Initiation and Maintenance Disorders", ("sleep",), "adult", None, 1.5,
     ("sleep quality", "CBT-I")),
    ("Postpartum Depression", "Depression, Postpartum", ("mood", "pregnancy"), "repro", "FEMALE",
     0.7, ("perinatal mental health", "postpartum")),
    ("Chronic Low Back Pain", "Low Back Pain", ("pain",), "adult", None, 2.0,
     ("back pain", "physical therapy", "spine")),
    ("Fibromyalgia", "Fibromyalgia", ("muscle", "rheumatic"), "adult", None, 1.0,
     ("chronic pain", "fatigue")),
    ("Diabetic Peripheral Neuropathy", "Diabetic Neuropathies", ("diabetes_complication",),
     "adult", None, 1.0, ("neuropathic pain", "foot care")),
    # Immune, digestive and skin
    ("Crohn Disease", "Crohn Disease", ("ibd",), "adult", None, 2.5,
     ("inflammatory bowel disease", "IBD", "biologic", "fistula")),
    ("Ulcerative Colitis", "Colitis, Ulcerative", ("ibd",), "adult", None, 2.5,
     ("inflammatory bowel disease", "IBD", "mucosal healing")),
    ("Rheumatoid Arthritis", "Arthritis, Rheumatoid", ("rheumatic", "autoimmune"), "adult", None,
     3.0, ("JAK inhibitor", "joint pain", "methotrexate")),
    ("Systemic Lupus Erythematosus", "Lupus Erythematosus, Systemic",
     ("connective", "autoimmune"), "adult", None, 2.0, ("lupus", "SLE", "lupus nephritis")),
    ("Psoriasis", "Psoriasis", ("skin",), "adult", None, 2.5,
     ("plaque psoriasis", "biologic", "itch")),
    ("Psoriatic Arthritis", "Arthritis, Psoriatic", ("rheumatic", "skin"), "adult", None, 1.0,
     ("joint pain", "biologic")),
    ("Atopic Dermatitis", "Dermatitis, Atopic", ("skin", "hypersensitivity"), "mixed", None, 2.5,
     ("eczema", "itch", "topical therapy")),
    ("Sjögren's Syndrome", "Sjogren's Syndrome", ("autoimmune", "connective"), "adult", None,
     0.7, ("dry mouth", "dry eyes", "fatigue")),
    ("Ankylosing Spondylitis", "Spondylitis, Ankylosing", ("rheumatic", "autoimmune"), "adult",
     None, 0.8, ("axial spondyloarthritis", "back pain")),
    ("Celiac Disease", "Celiac Disease", ("gi", "autoimmune"), "mixed", None, 0.7,
     ("gluten-free diet", "gluten")),
    ("Irritable Bowel Syndrome", "Irritable Bowel Syndrome", ("gi",), "adult", None, 1.0,
     ("IBS", "abdominal pain", "diet")),
    ("Gastroesophageal Reflux Disease", "Gastroesophageal Reflux", ("gi",), "adult", None, 0.8,
     ("GERD", "heartburn")),
    ("Eosinophilic Esophagitis", "Eosinophilic Esophagitis", ("gi", "hypersensitivity"),
     "mixed", None, 0.6, ("EoE", "dysphagia")),
    ("Hidradenitis Suppurativa", "Hidradenitis Suppurativa", ("skin",), "adult", None, 0.7,
     ("acne inversa", "biologic")),
    ("Alopecia Areata", "Alopecia Areata", ("skin", "autoimmune"), "mixed", None, 0.6,
     ("hair loss", "JAK inhibitor")),
    ("Chronic Spontaneous Urticaria", "Chronic Urticaria", ("skin", "hypersensitivity"), "adult",
     None, 0.6, ("hives", "itch")),
    ("Cirrhosis", "Liver Cirrhosis", ("liver",), "adult", None, 1.0,
     ("portal hypertension", "ascites")),
    ("Primary Biliary Cholangitis", "Liver Cirrhosis, Biliary", ("liver", "autoimmune"), "adult",
     "FEMALE", 0.5, ("PBC", "alkaline phosphatase")),
    # Infection
    ("HIV Infections", "HIV Infections", ("viral", "autoimmune"), "adult", None, 2.5,
     ("HIV", "antiretroviral therapy", "PrEP", "viral suppression")),
    ("Chronic Hepatitis B", "Hepatitis B, Chronic", ("viral", "liver"), "adult", None, 1.0,
     ("HBV", "functional cure")),
    ("Hepatitis C", "Hepatitis C", ("viral", "liver"), "adult", None, 0.8,
     ("HCV", "direct-acting antiviral")),
    ("COVID-19", "COVID-19", ("viral", "lung"), "adult", None, 2.0,
     ("SARS-CoV-2", "long COVID", "vaccine")),
    ("Influenza", "Influenza, Human", ("viral",), "mixed", None, 1.0, ("flu", "vaccine")),
    ("Respiratory Syncytial Virus Infection", "Respiratory Syncytial Virus Infections",
     ("viral", "lung"), "mixed", None, 0.8, ("RSV", "vaccine", "infants")),
    ("Tuberculosis", "Tuberculosis", ("bacterial",), "adult", None, 1.0,
     ("TB", "latent tuberculosis", "drug-resistant")),
    ("Sepsis", "Sepsis", ("inflammation", "bacterial"), "adult", None, 1.5,
     ("septic shock", "intensive care")),
    ("Urinary Tract Infection", "Urinary Tract Infections", ("bacterial", "urologic"), "adult",
     None, 0.8, ("UTI", "antibiotic resistance")),
    ("Malaria", "Malaria", ("parasitic",), "mixed", None, 0.5, ("Plasmodium falciparum",)),
    ("Clostridioides difficile Infection", "Clostridium Infections", ("bacterial", "gi"), "adult",
     None, 0.5, ("C. difficile", "microbiome")),
    # Kidney and urology
    ("Chronic Kidney Disease", "Renal Insufficiency, Chronic", ("kidney",), "adult", None, 3.0,
     ("CKD", "eGFR", "dialysis", "albuminuria")),
    ("IgA Nephropathy", "Glomerulonephritis, IGA", ("kidney", "autoimmune"), "adult", None, 0.6,
     ("proteinuria", "glomerular disease")),
    ("Benign Prostatic Hyperplasia", "Prostatic Hyperplasia", ("male_genital",), "older", "MALE",
     0.8, ("BPH", "lower urinary tract symptoms")),
    ("Overactive Bladder", "Urinary Bladder, Overactive", ("urologic",), "adult", None, 0.8,
     ("urinary incontinence", "urgency")),
    ("Erectile Dysfunction", "Erectile Dysfunction", ("male_genital",), "adult", "MALE", 0.4,
     ("sexual health",)),
    # Eye and ear
    ("Age-related Macular Degeneration", "Macular Degeneration", ("retina",), "older", None, 1.5,
     ("AMD", "geographic atrophy", "anti-VEGF")),
    ("Glaucoma", "Glaucoma", ("eye",), "older", None, 1.0,
     ("intraocular pressure", "eye drops")),
    ("Diabetic Macular Edema", "Macular Edema", ("retina", "diabetes_complication"), "adult",
     None, 1.0, ("DME", "anti-VEGF", "visual acuity")),
    ("Dry Eye Disease", "Dry Eye Syndromes", ("eye",), "adult", None, 0.8, ("tear film",)),
    ("Myopia", "Myopia", ("eye",), "child", None, 0.6, ("nearsightedness", "atropine drops")),
    ("Ménière's Disease", "Meniere Disease", ("labyrinth",), "adult", None, 0.4,
     ("vertigo", "hearing loss", "tinnitus")),
    ("Tinnitus", "Tinnitus", ("ear",), "adult", None, 0.5, ("sound therapy",)),
    ("Hearing Loss", "Hearing Loss", ("ear",), "mixed", None, 0.7,
     ("cochlear implant", "hearing aids")),
    # Blood and genetic
    ("Sickle Cell Disease", "Anemia, Sickle Cell", ("anemia", "genetic"), "mixed", None, 1.0,
     ("vaso-occlusive crisis", "gene therapy", "hydroxyurea")),
    ("Hemophilia A", "Hemophilia A", ("blood", "genetic"), "mixed", "MALE", 0.6,
     ("factor VIII", "bleeding", "gene therapy")),
    ("Iron Deficiency Anemia", "Anemia, Iron-Deficiency", ("anemia",), "adult", None, 0.8,
     ("ferritin", "intravenous iron")),
    ("Duchenne Muscular Dystrophy", "Muscular Dystrophy, Duchenne", ("muscle", "genetic"),
     "child", "MALE", 0.6, ("DMD", "dystrophin", "exon skipping")),
    ("Spinal Muscular Atrophy", "Muscular Atrophy, Spinal", ("neurodegenerative", "genetic"),
     "child", None, 0.5, ("SMA", "motor function")),
    ("Beta-Thalassemia", "beta-Thalassemia", ("anemia", "genetic"), "mixed", None, 0.4,
     ("transfusion", "iron overload")),
    # Pregnancy and women's health
    ("Preeclampsia", "Pre-Eclampsia", ("pregnancy", "vascular"), "repro", "FEMALE", 0.7,
     ("pregnancy", "blood pressure", "aspirin")),
    ("Preterm Birth", "Premature Birth", ("pregnancy",), "repro", "FEMALE", 0.7,
     ("pregnancy", "progesterone")),
    ("Endometriosis", "Endometriosis", ("gyn",), "repro", "FEMALE", 0.8,
     ("pelvic pain", "dysmenorrhea")),
    ("Uterine Fibroids", "Leiomyoma", ("gyn",), "repro", "FEMALE", 0.5,
     ("heavy menstrual bleeding",)),
    ("Female Infertility", "Infertility, Female", ("gyn",), "repro", "FEMALE", 0.6,
     ("IVF", "embryo transfer")),
    # Musculoskeletal
    ("Knee Osteoarthritis", "Osteoarthritis, Knee", ("osteoarthritis",), "older", None, 2.0,
     ("knee pain", "exercise therapy", "joint injection")),
    ("Rotator Cuff Tear", "Rotator Cuff Injuries", ("injury",), "adult", None, 0.5,
     ("shoulder surgery", "physiotherapy")),
    ("Hip Fracture", "Hip Fractures", ("injury", "bone"), "older", None, 0.6,
     ("orthogeriatric care", "rehabilitation")),
    # Neonatal
    ("Bronchopulmonary Dysplasia", "Bronchopulmonary Dysplasia", ("neonatal", "lung"), "child",
     None, 0.4, ("preterm infants", "neonatal intensive care")),
    ("Neonatal Jaundice", "Jaundice, Neonatal", ("neonatal",), "child", None, 0.3,
     ("phototherapy", "bilirubin")),
)  # fmt: skip


def _stable_id(term: str, used: dict[str, str], prefix: str) -> str:
    """A fictional-looking MeSH-style ID ("D0" + 5 digits), stable per term."""
    if term in used:
        return used[term]
    number = zlib.crc32(term.encode()) % 100_000
    taken = set(used.values())
    while f"{prefix}{number:05d}" in taken:
        number = (number + 1) % 100_000
    used[term] = f"{prefix}{number:05d}"
    return used[term]


class _Condition(NamedTuple):
    name: str
    mesh: tuple[str, str]  # (id, term)
    ancestors: tuple[tuple[str, str], ...]
    domain: str
    ages: str
    sex: str | None
    keywords: tuple[str, ...]
    weight: float
    pregnancy: bool  # about pregnancy itself: no "pregnant" exclusion, no pregnancy test


def _build_conditions() -> tuple[_Condition, ...]:
    ids: dict[str, str] = {}
    out = []
    for name, term, groups, ages, sex, weight, keywords in _CONDITION_ROWS:
        ancestor_terms: list[str] = []
        for group in groups:
            for ancestor in _ANCESTOR_GROUPS[group][1]:
                if ancestor not in ancestor_terms and ancestor != term:
                    ancestor_terms.append(ancestor)
        out.append(
            _Condition(
                name=name,
                mesh=(_stable_id(term, ids, "D0"), term),
                ancestors=tuple((_stable_id(a, ids, "D0"), a) for a in ancestor_terms),
                domain=_ANCESTOR_GROUPS[groups[0]][0],
                ages=ages,
                sex=sex,
                keywords=keywords,
                weight=weight,
                pregnancy="pregnancy" in groups,
            )
        )
    return tuple(out)


CONDITIONS: tuple[_Condition, ...] = _build_conditions()
_CONDITION_TABLE = _Weighted((c, c.weight) for c in CONDITIONS)


def _companions(primary: _Condition) -> tuple[_Condition, ...]:
    """Conditions that may be listed next to `primary`: same domain, compatible people."""
    child_like = primary.ages == "child"
    return tuple(
        c
        for c in CONDITIONS
        if c is not primary
        and c.domain == primary.domain
        and (c.sex is None or c.sex == primary.sex)
        and (c.ages == "child") == child_like
    )


_COMPANIONS: dict[str, tuple[_Condition, ...]] = {c.name: _companions(c) for c in CONDITIONS}

# --------------------------------------------------------------------------------------
# Statuses, dates, design
# --------------------------------------------------------------------------------------

_STATUS_TABLE = _Weighted(
    (
        ("RECRUITING", 60.0),
        ("NOT_YET_RECRUITING", 15.0),
        ("ENROLLING_BY_INVITATION", 5.0),
        ("ACTIVE_NOT_RECRUITING", 10.0),
        ("COMPLETED", 4.5),
        ("TERMINATED", 2.0),
        ("WITHDRAWN", 1.5),
        ("SUSPENDED", 2.0),
    )
)
_OTHER_SITE_STATUSES = (
    "NOT_YET_RECRUITING",
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "WITHDRAWN",
)
STALE_SHARE = 0.05
"""Share of recruiting studies that look abandoned (old update or past completion)."""

_PHASE_TABLE = _Weighted(
    (
        (("NA",), 30.0),
        (("PHASE2",), 18.0),
        (("PHASE3",), 18.0),
        (("PHASE1",), 10.0),
        (("PHASE1", "PHASE2"), 8.0),
        (("PHASE4",), 7.0),
        (("PHASE2", "PHASE3"), 5.0),
        (("EARLY_PHASE1",), 3.0),
    )
)
_PHASE_TEXT = {
    ("NA",): "",
    ("PHASE1",): "Phase 1",
    ("PHASE2",): "Phase 2",
    ("PHASE3",): "Phase 3",
    ("PHASE4",): "Phase 4",
    ("PHASE1", "PHASE2"): "Phase 1/2",
    ("PHASE2", "PHASE3"): "Phase 2/3",
    ("EARLY_PHASE1",): "Early Phase 1",
}

# Day strings for every day from ~16 years before to ~12 years after the reference date.
_DAY_MIN = -6000
_DAY_MAX = 4500
_REF_ORDINAL = REFERENCE_DATE.toordinal()
_DAYS: tuple[str, ...] = tuple(
    dt.date.fromordinal(_REF_ORDINAL + offset).isoformat()
    for offset in range(_DAY_MIN, _DAY_MAX + 1)
)


def _day(offset: int) -> str:
    """ "YYYY-MM-DD" for a day offset from the reference date."""
    return _DAYS[min(max(offset, _DAY_MIN), _DAY_MAX) - _DAY_MIN]


# --------------------------------------------------------------------------------------
# Ages and sex
# --------------------------------------------------------------------------------------

_AdultAge = tuple[str | None, str | None]

_ADULT_MIN: _Weighted[str | None] = _Weighted(
    (
        ("18 Years", 80.0),
        ("19 Years", 2.0),
        ("20 Years", 3.0),
        ("21 Years", 4.0),
        ("16 Years", 2.0),
        ("12 Years", 2.0),
        ("40 Years", 2.0),
        ("50 Years", 1.0),
        (None, 4.0),
    )
)
_ADULT_MAX: _Weighted[str | None] = _Weighted(
    (
        (None, 45.0),
        ("65 Years", 12.0),
        ("75 Years", 12.0),
        ("70 Years", 9.0),
        ("80 Years", 7.0),
        ("85 Years", 3.0),
        ("99 Years", 4.0),
        ("100 Years", 2.0),
        ("60 Years", 3.0),
        ("55 Years", 2.0),
        ("45 Years", 1.0),
    )
)
_OLDER_MIN: _Weighted[str | None] = _Weighted(
    (
        ("18 Years", 3.0),
        ("40 Years", 1.0),
        ("50 Years", 3.0),
        ("55 Years", 2.0),
        ("60 Years", 3.0),
        ("65 Years", 2.0),
    )
)
_OLDER_MAX: _Weighted[str | None] = _Weighted(
    ((None, 60.0), ("80 Years", 15.0), ("85 Years", 15.0), ("90 Years", 10.0))
)
_REPRO_MIN: _Weighted[str | None] = _Weighted(
    (("18 Years", 70.0), ("16 Years", 10.0), ("15 Years", 5.0), ("20 Years", 5.0), (None, 2.0))
)
_REPRO_MAX: _Weighted[str | None] = _Weighted(
    (("45 Years", 30.0), ("49 Years", 15.0), ("50 Years", 15.0), ("40 Years", 10.0), (None, 30.0))
)
_CHILD_RANGES: _Weighted[_AdultAge] = _Weighted(
    (
        (("2 Weeks", "17 Years"), 6.0),
        (("30 Days", "18 Years"), 6.0),
        (("28 Days", "12 Months"), 2.0),
        (("6 Months", "17 Years"), 10.0),
        (("6 Months", "5 Years"), 4.0),
        (("1 Year", "17 Years"), 10.0),
        (("1 Year", "21 Years"), 4.0),
        (("2 Years", "12 Years"), 6.0),
        (("3 Years", "8 Years"), 3.0),
        (("6 Years", "17 Years"), 12.0),
        (("6 Years", "11 Years"), 4.0),
        (("12 Years", "17 Years"), 12.0),
        (("12 Years", "25 Years"), 3.0),
        ((None, "17 Years"), 4.0),
        (("1 Month", "24 Months"), 2.0),
    )
)
_SPAN_RANGES: _Weighted[_AdultAge] = _Weighted(
    (
        (("2 Years", None), 3.0),
        (("12 Years", None), 4.0),
        (("6 Years", "65 Years"), 2.0),
        (("1 Year", None), 2.0),
        (("12 Years", "75 Years"), 2.0),
        ((None, None), 1.0),
    )
)
_SEX_TABLE = _Weighted((("ALL", 80.0), ("FEMALE", 14.0), ("MALE", 5.0), (None, 1.0)))


def _age_years(age: str | None) -> float | None:
    if age is None:
        return None
    number, unit = age.split()
    per_year = {"Year": 1, "Years": 1, "Month": 12, "Months": 12, "Week": 52, "Weeks": 52}
    return int(number) / per_year.get(unit, 365)


def _std_ages(minimum: float | None, maximum: float | None) -> list[str]:
    low = 0.0 if minimum is None else minimum
    out = []
    if low < 18:
        out.append("CHILD")
    if low < 65 and (maximum is None or maximum >= 18):
        out.append("ADULT")
    if maximum is None or maximum >= 65:
        out.append("OLDER_ADULT")
    return out


_AGES_IN_TABLES: frozenset[str | None] = frozenset(
    [age for table in (_ADULT_MIN, _ADULT_MAX, _OLDER_MIN, _OLDER_MAX) for age in table.values]
    + [age for table in (_REPRO_MIN, _REPRO_MAX) for age in table.values]
    + [age for table in (_CHILD_RANGES, _SPAN_RANGES) for pair in table.values for age in pair]
)
_AGE_YEARS: dict[str | None, float | None] = {age: _age_years(age) for age in _AGES_IN_TABLES}


def _pick_ages(rng: random.Random, profile: str) -> _AdultAge:
    if profile == "mixed":
        roll = rng.random()
        if roll < 0.3:
            return _CHILD_RANGES.pick(rng)
        if roll < 0.6:
            return _SPAN_RANGES.pick(rng)
        profile = "adult"
    if profile == "child":
        return _CHILD_RANGES.pick(rng)
    if profile == "older":
        low, high = _OLDER_MIN.pick(rng), _OLDER_MAX.pick(rng)
    elif profile == "repro":
        low, high = _REPRO_MIN.pick(rng), _REPRO_MAX.pick(rng)
    else:
        low, high = _ADULT_MIN.pick(rng), _ADULT_MAX.pick(rng)
    low_years, high_years = _AGE_YEARS[low], _AGE_YEARS[high]
    if low_years is not None and high_years is not None and high_years <= low_years:
        high = None
    return low, high


def _unforced_sex_table() -> _Weighted[str | None]:
    """Sex weights for conditions without a required sex, tuned so the overall mix is
    about 80% ALL, 14% FEMALE, 5% MALE and 1% missing despite sex-specific conditions."""
    total = sum(c.weight for c in CONDITIONS)
    forced_female = sum(c.weight for c in CONDITIONS if c.sex == "FEMALE") / total
    forced_male = sum(c.weight for c in CONDITIONS if c.sex == "MALE") / total
    free = 1.0 - forced_female - forced_male
    return _Weighted(
        (
            ("ALL", 0.80 / free),
            ("FEMALE", max(0.14 - forced_female, 0.005) / free),
            ("MALE", max(0.05 - forced_male, 0.003) / free),
            (None, 0.01 / free),
        )
    )


_UNFORCED_SEX = _unforced_sex_table()

# --------------------------------------------------------------------------------------
# People, institutions, interventions
# --------------------------------------------------------------------------------------


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


_FIRST_NAMES: tuple[str, ...] = (
    "Amelia", "Aisha", "Akira", "Alejandro", "Ana", "Anders", "Beatriz", "Björn", "Camille",
    "Carlos", "Chiara", "Chloé", "Daniel", "Deepa", "Elena", "Emeka", "Fatima", "François",
    "Grace", "Hana", "Hiroshi", "Ingrid", "Isabel", "James", "Javier", "Jia", "José",
    "Karim", "Katarzyna", "Laura", "Liam", "Lucía", "Mariam", "Mateo", "Mei", "Michael",
    "Nadia", "Noah", "Olumide", "Omar", "Priya", "Rafael", "Rachel", "Sanjay", "Sarah",
    "Siobhán", "Sofia", "Tomás", "Wei", "Yusuf", "Zoë", "Thandiwe", "Paul", "Linnea",
)  # fmt: skip
_LAST_NAMES: tuple[str, ...] = (
    "Abernathy", "Achterberg", "Adeyemi", "Alvarez", "Bauer", "Bergström", "Castellano",
    "Chen", "Dubois", "Eriksen", "Fernández", "Fitzgerald", "Gallagher", "García", "Haddad",
    "Halvorsen", "Ibarra", "Iwasaki", "Jankowski", "Kapoor", "Kowalczyk", "Lindqvist",
    "Lombardi", "MacAllister", "Marchetti", "Mendoza", "Müller", "Nakamura", "Nguyen",
    "Novak", "O'Brien", "O'Donnell", "Okafor", "Oyelaran", "Pereira", "Petrov", "Quintero",
    "Ramanathan", "Rossi", "Schneider", "Silva", "Sørensen", "Takahashi", "Thornton",
    "Valdés", "Van der Berg", "Whitfield", "Yilmaz", "Zhang", "Zielinski", "Brennan",
)  # fmt: skip


class _Person(NamedTuple):
    name: str  # "Zoë O'Brien"
    dotted: str  # "zoe.obrien"
    short: str  # "zobrien"


_PEOPLE: tuple[_Person, ...] = tuple(
    _Person(f"{first} {last}", f"{_ascii_slug(first)}.{_ascii_slug(last)}",
            f"{_ascii_slug(first)[0]}{_ascii_slug(last)}")
    for first, last in itertools.product(_FIRST_NAMES, _LAST_NAMES)
)  # fmt: skip
# Credentials after a name, repeated by weight so a uniform pick gives the mix.
_CREDENTIALS: tuple[str, ...] = (
    ("",) * 30
    + (", MD",) * 25
    + (", RN",) * 10
    + (", BSN, RN",) * 6
    + (", PhD",) * 8
    + (", MD, PhD",) * 6
    + (", MSc",) * 5
    + (", CCRP",) * 4
    + (" MD",) * 3
    + (", M.D.",) * 3
)
_TEAM_NAMES: tuple[str, ...] = (
    "Study Coordinator",
    "Clinical Trials Office",
    "Research Nurse Team",
    "Patient Recruitment Line",
    "Trial Information Desk",
)
_TEAM_SLUGS: tuple[str, ...] = ("studycoordinator", "trials", "research", "recruitment", "info")
_CENTRAL_DOMAINS: tuple[str, ...] = ("example.org", "example.com", "example.net")

_PLACE_WORDS: tuple[str, ...] = (
    "Northwind", "Riverside", "Lakeshore", "Silver Creek", "Maple Ridge", "Cedar Valley",
    "Bluewater", "Stonebridge", "Westbrook", "Pinecrest", "Brightwater", "Oakmere",
    "Fernhill", "Highmoor", "Willowbend", "Granite Falls", "Elmstead", "Redcliff",
    "Amberly", "Foxglove", "Ashgrove", "Summerhill", "Kingsmere", "Larkspur",
    "Copperfield", "Thornbury", "Evergreen Valley", "Clearwater Bay", "Heronsgate",
    "Bellmont", "Juniper Hills", "Saint Aurelia", "Saint Columba", "Mistral Coast",
)  # fmt: skip
_FACILITY_KINDS: tuple[str, ...] = (
    "University Hospital", "Medical Center", "Clinical Research Center", "Community Hospital",
    "Cancer Institute", "Heart Institute", "Neurology Clinic", "Research Institute",
    "Health Center", "Regional Medical Center", "Memorial Hospital", "Teaching Hospital",
    "Clinical Trials Unit", "Research Clinic", "General Hospital", "Family Health Clinic",
)  # fmt: skip
_CHILD_FACILITY_KINDS: tuple[str, ...] = (
    "Children's Hospital",
    "Children's Medical Center",
    "Pediatric Research Institute",
    "Hospital for Sick Children",
)
_FACILITIES: tuple[str, ...] = tuple(
    f"{place} {kind}" for place, kind in itertools.product(_PLACE_WORDS, _FACILITY_KINDS)
)
_CHILD_FACILITIES: tuple[str, ...] = tuple(
    f"{place} {kind}" for place, kind in itertools.product(_PLACE_WORDS, _CHILD_FACILITY_KINDS)
)
_ACADEMIC_KINDS: tuple[str, ...] = (
    "University Hospital",
    "University",
    "Medical Center",
    "Health System",
    "Institute of Medical Research",
    "Cancer Center",
    "Clinical Research Foundation",
    "University School of Medicine",
)
_ACADEMIC_SPONSORS: tuple[str, ...] = tuple(
    f"{place} {kind}" for place, kind in itertools.product(_PLACE_WORDS, _ACADEMIC_KINDS)
)
_INDUSTRY_SPONSORS: tuple[str, ...] = (
    "Aurelia Biosciences", "Quillon Pharmaceuticals", "Ventrix Therapeutics",
    "Halcyon Biologics", "Meridale Pharma", "Corvane Medical Devices", "Lumora Health",
    "Tessarine Bio", "Novarell Therapeutics", "Brightfield Genomics", "Calderon Life Sciences",
    "Oriel Vaccines", "Saxby Neuroscience", "Pellucid Oncology", "Greywater Diagnostics",
    "Kestrel Rare Disease Inc.", "Solenne Pharmaceuticals, Inc.", "Umbrial Biotech GmbH",
    "Yarrowfield Medical Ltd", "Zenova Cell Therapy", "Marlow & Finch Pharma",
    "Ostrava BioPharma", "Hollis Digital Health", "Tidewell Devices", "Caspian Biotherapeutics",
)  # fmt: skip
_OTHER_GOV_SPONSORS: tuple[str, ...] = (
    "Northwind Regional Health Authority",
    "Cedar Valley Department of Public Health",
    "Bluewater National Institute of Health Research",
)
_NETWORK_SPONSORS: tuple[str, ...] = (
    "Fictional Oncology Trials Network",
    "Demonstration Pediatric Research Consortium",
    "Example Cardiology Study Group",
)
_ACRONYM_WORDS: tuple[str, ...] = (
    "LANTERN", "ORCHARD", "LODESTAR", "KESTREL", "MERIDIAN", "SUMMIT", "HARBOR", "BEACON",
    "TIDEPOOL", "WILLOW", "AURORA-D", "QUARTZ", "PEBBLE", "CASCADE", "FERNLEAF", "NIMBUS",
    "SPARROW", "TANDEM", "VELVET", "ZEPHYR", "HEARTH", "MOSAIC", "ANCHOR", "PRISM-X",
)  # fmt: skip
_DRUG_STEMS: tuple[str, ...] = (
    "vara", "lemi", "quino", "tora", "belo", "ximo", "pelu", "zandi", "navo", "rido",
    "fexa", "cemo", "olira", "tesu", "grava", "mirtu", "sabe", "voxi", "kelpa", "duro",
)  # fmt: skip
_DRUG_SUFFIXES: tuple[str, ...] = (
    "tinib", "zumab", "cimab", "cept", "stat", "lisib", "glutide", "gliflozin", "sartan",
    "prazole", "vudine", "parin", "dronate", "tide",
)  # fmt: skip
_DRUG_NAMES: tuple[str, ...] = tuple(
    stem + suffix for stem, suffix in itertools.product(_DRUG_STEMS, _DRUG_SUFFIXES)
)
_DRUG_CODE_PREFIXES: tuple[str, ...] = (
    "NWX", "RVB", "LKT", "QAL", "ZRN", "TFD", "ABX", "KMR", "VTX", "HLC", "MDP", "OXR",
)  # fmt: skip
# (title case, sentence case)
_NON_DRUG_INTERVENTIONS: tuple[tuple[str, str], ...] = (
    ("Home-based Exercise Program", "a home-based exercise program"),
    ("Mobile Coaching App", "a mobile coaching app"),
    ("Mindfulness-based Group Sessions", "mindfulness-based group sessions"),
    ("Low-sodium Diet", "a low-sodium diet"),
    ("Telehealth Follow-up", "telehealth follow-up visits"),
    ("Wearable Activity Tracker", "a wearable activity tracker"),
    ("Nurse-led Education", "nurse-led education sessions"),
    ("Peer Support Program", "a peer support program"),
    ("Text Message Reminders", "text message reminders"),
    ("Virtual Reality Relaxation", "virtual reality relaxation sessions"),
    ("Structured Walking Program", "a structured walking program"),
    ("Cognitive Behavioral Therapy", "cognitive behavioral therapy"),
    ("Mediterranean Diet Counseling", "Mediterranean diet counseling"),
    ("Remote Blood Pressure Monitoring", "remote blood pressure monitoring"),
    ("Yoga Classes", "weekly yoga classes"),
    ("Music Therapy", "music therapy"),
    ("Pharmacist Medication Review", "a pharmacist-led medication review"),
    ("Low-intensity Ultrasound Device", "a low-intensity ultrasound device"),
    ("Neuromuscular Stimulation Device", "a neuromuscular stimulation device"),
    ("Minimally Invasive Surgical Technique", "a minimally invasive surgical technique"),
)

# --------------------------------------------------------------------------------------
# Places: real cities with real coordinates, weighted roughly by trial-site counts.
# --------------------------------------------------------------------------------------

# (city, state or None, zip or None, country, lat, lon, weight, phone area)
_CITY_ROWS: tuple[tuple[str, str | None, str | None, str, float, float, float, str], ...] = (
    ("New York", "New York", "10016", "United States", 40.71427, -74.00597, 10.0, "212"),
    ("Boston", "Massachusetts", "02114", "United States", 42.35843, -71.05977, 9.0, "617"),
    ("Houston", "Texas", "77030", "United States", 29.76328, -95.36327, 9.0, "713"),
    ("Chicago", "Illinois", "60611", "United States", 41.85003, -87.65005, 8.0, "312"),
    ("Philadelphia", "Pennsylvania", "19104", "United States", 39.95233, -75.16379, 7.0, "215"),
    ("Los Angeles", "California", "90095", "United States", 34.05223, -118.24368, 7.0, "310"),
    ("San Francisco", "California", "94143", "United States", 37.77493, -122.41942, 5.0, "415"),
    ("Seattle", "Washington", "98109", "United States", 47.60621, -122.33207, 5.0, "206"),
    ("Baltimore", "Maryland", "21287", "United States", 39.29038, -76.61219, 5.0, "410"),
    ("Bethesda", "Maryland", "20892", "United States", 38.98067, -77.10026, 4.0, "301"),
    ("Rochester", "Minnesota", "55905", "United States", 44.02163, -92.4699, 4.0, "507"),
    ("Nashville", "Tennessee", "37232", "United States", 36.16589, -86.78444, 5.0, "615"),
    ("Atlanta", "Georgia", "30322", "United States", 33.749, -84.38798, 5.0, "404"),
    ("Pittsburgh", "Pennsylvania", "15213", "United States", 40.44062, -79.99589, 5.0, "412"),
    ("Ann Arbor", "Michigan", "48109", "United States", 42.27756, -83.74088, 4.0, "734"),
    ("Durham", "North Carolina", "27710", "United States", 35.99403, -78.89862, 4.0, "919"),
    ("Chapel Hill", "North Carolina", "27599", "United States", 35.9132, -79.05584, 2.0, "919"),
    ("Cleveland", "Ohio", "44195", "United States", 41.4995, -81.69541, 5.0, "216"),
    ("Columbus", "Ohio", "43210", "United States", 39.96118, -82.99879, 4.0, "614"),
    ("Cincinnati", "Ohio", "45229", "United States", 39.12711, -84.51439, 3.0, "513"),
    ("Saint Louis", "Missouri", "63110", "United States", 38.62727, -90.19789, 4.0, "314"),
    ("Minneapolis", "Minnesota", "55455", "United States", 44.97997, -93.26384, 3.0, "612"),
    ("Aurora", "Colorado", "80045", "United States", 39.72943, -104.83192, 4.0, "303"),
    ("Dallas", "Texas", "75390", "United States", 32.78306, -96.80667, 4.0, "214"),
    ("San Antonio", "Texas", "78229", "United States", 29.42412, -98.49363, 3.0, "210"),
    ("Austin", "Texas", "78712", "United States", 30.26715, -97.74306, 2.0, "512"),
    ("Miami", "Florida", "33136", "United States", 25.77427, -80.19366, 4.0, "305"),
    ("Tampa", "Florida", "33612", "United States", 27.94752, -82.45843, 3.0, "813"),
    ("Jacksonville", "Florida", "32224", "United States", 30.33218, -81.65565, 2.0, "904"),
    ("Gainesville", "Florida", "32610", "United States", 29.65163, -82.32483, 2.0, "352"),
    ("Phoenix", "Arizona", "85013", "United States", 33.44838, -112.07404, 3.0, "602"),
    ("Salt Lake City", "Utah", "84132", "United States", 40.76078, -111.89105, 3.0, "801"),
    ("Portland", "Oregon", "97239", "United States", 45.52345, -122.67621, 3.0, "503"),
    ("San Diego", "California", "92093", "United States", 32.71571, -117.16472, 4.0, "858"),
    ("Sacramento", "California", "95817", "United States", 38.58157, -121.4944, 2.0, "916"),
    ("Indianapolis", "Indiana", "46202", "United States", 39.76838, -86.15804, 3.0, "317"),
    ("Milwaukee", "Wisconsin", "53226", "United States", 43.0389, -87.90647, 2.0, "414"),
    ("Madison", "Wisconsin", "53792", "United States", 43.07305, -89.40123, 2.0, "608"),
    ("Detroit", "Michigan", "48201", "United States", 42.33143, -83.04575, 3.0, "313"),
    ("Birmingham", "Alabama", "35294", "United States", 33.52066, -86.80249, 2.0, "205"),
    ("New Orleans", "Louisiana", "70112", "United States", 29.95465, -90.07507, 2.0, "504"),
    ("Kansas City", "Kansas", "66160", "United States", 39.11417, -94.62746, 2.0, "913"),
    ("Omaha", "Nebraska", "68198", "United States", 41.25626, -95.94043, 1.0, "402"),
    ("Iowa City", "Iowa", "52242", "United States", 41.66113, -91.53017, 1.0, "319"),
    ("Charlottesville", "Virginia", "22908", "United States", 38.02931, -78.47668, 1.0, "434"),
    ("Richmond", "Virginia", "23298", "United States", 37.55376, -77.46026, 1.0, "804"),
    ("Charleston", "South Carolina", "29425", "United States", 32.77657, -79.93092, 1.0, "843"),
    ("Lexington", "Kentucky", "40536", "United States", 37.98869, -84.47772, 1.0, "859"),
    ("Louisville", "Kentucky", "40202", "United States", 38.25424, -85.75941, 1.0, "502"),
    ("Oklahoma City", "Oklahoma", "73104", "United States", 35.46756, -97.51643, 1.0, "405"),
    ("Albuquerque", "New Mexico", "87131", "United States", 35.08449, -106.65114, 1.0, "505"),
    ("Las Vegas", "Nevada", "89102", "United States", 36.17497, -115.13722, 1.0, "702"),
    ("Honolulu", "Hawaii", "96813", "United States", 21.30694, -157.85833, 1.0, "808"),
    ("Anchorage", "Alaska", "99508", "United States", 61.21806, -149.90028, 0.5, "907"),
    ("Burlington", "Vermont", "05401", "United States", 44.47588, -73.21207, 0.5, "802"),
    ("New Haven", "Connecticut", "06510", "United States", 41.30815, -72.92816, 2.0, "203"),
    ("Providence", "Rhode Island", "02903", "United States", 41.82399, -71.41283, 1.0, "401"),
    ("Springfield", "Illinois", "62702", "United States", 39.80172, -89.64371, 1.0, "217"),
    ("Little Rock", "Arkansas", "72205", "United States", 34.74648, -92.28959, 1.0, "501"),
    ("Boise", "Idaho", "83702", "United States", 43.6135, -116.20345, 0.5, "208"),
    ("Fargo", "North Dakota", "58102", "United States", 46.87719, -96.7898, 0.5, "701"),
    ("Sioux Falls", "South Dakota", "57105", "United States", 43.54997, -96.70033, 0.5, "605"),
    ("Washington", "District of Columbia", "20007", "United States", 38.89511, -77.03637, 2.0,
     "202"),
    ("Hackensack", "New Jersey", "07601", "United States", 40.88593, -74.04347, 2.0, "201"),
    ("Buffalo", "New York", "14263", "United States", 42.88645, -78.87837, 1.0, "716"),
    ("Portland", "Maine", "04102", "United States", 43.66147, -70.25533, 0.5, "207"),
    ("Toronto", "Ontario", "M5G 2C4", "Canada", 43.70011, -79.4163, 8.0, "416"),
    ("Montreal", "Quebec", "H3T 1E2", "Canada", 45.50884, -73.58781, 6.0, "514"),
    ("Vancouver", "British Columbia", "V5Z 1M9", "Canada", 49.24966, -123.11934, 4.0, "604"),
    ("Calgary", "Alberta", "T2N 4N1", "Canada", 51.05011, -114.08529, 2.0, "403"),
    ("London", None, "WC1E 6BT", "United Kingdom", 51.50853, -0.12574, 6.0, "+44 20 7946"),
    ("Manchester", None, "M13 9WL", "United Kingdom", 53.48095, -2.23743, 2.0, "+44 161 496"),
    ("Glasgow", "Scotland", "G51 4TF", "United Kingdom", 55.86515, -4.25763, 2.0,
     "+44 141 496"),
    ("Paris", None, "75013", "France", 48.85341, 2.3488, 6.0, "+33 1 99 00"),
    ("Lyon", None, "69003", "France", 45.74846, 4.84671, 2.0, "+33 4 99 00"),
    ("Berlin", None, "10117", "Germany", 52.52437, 13.41053, 4.0, "+49 30 5550"),
    ("München", "Bavaria", "81377", "Germany", 48.13743, 11.57549, 4.0, "+49 89 5550"),
    ("Heidelberg", "Baden-Württemberg", "69120", "Germany", 49.40768, 8.69079, 2.0,
     "+49 6221 5550"),
    ("Hamburg", None, "20246", "Germany", 53.57532, 10.01534, 2.0, "+49 40 5550"),
    ("Madrid", None, "28041", "Spain", 40.4165, -3.70256, 4.0, "+34 91 555"),
    ("Barcelona", "Catalonia", "08035", "Spain", 41.38879, 2.15899, 4.0, "+34 93 555"),
    ("Milano", "Lombardy", "20162", "Italy", 45.46427, 9.18951, 4.0, "+39 02 5550"),
    ("Roma", "Lazio", "00168", "Italy", 41.89193, 12.51133, 4.0, "+39 06 5550"),
    ("Beijing", "Beijing", "100730", "China", 39.9075, 116.39723, 8.0, "+86 10 5550"),
    ("Shanghai", "Shanghai", "200025", "China", 31.22222, 121.45806, 8.0, "+86 21 5550"),
    ("Guangzhou", "Guangdong", "510080", "China", 23.11667, 113.25, 4.0, "+86 20 5550"),
    ("Xinxiang", "Henan", "453100", "China", 35.19033, 113.80151, 2.0, "+86 373 555"),
    ("Chengdu", "Sichuan", "610041", "China", 30.66667, 104.06667, 3.0, "+86 28 5550"),
    ("Wuhan", "Hubei", "430030", "China", 30.58333, 114.26667, 3.0, "+86 27 5550"),
    ("Tokyo", None, "104-0045", "Japan", 35.6895, 139.69171, 6.0, "+81 3 5550"),
    ("Osaka", None, "565-0871", "Japan", 34.69374, 135.50218, 3.0, "+81 6 5550"),
    ("Seoul", None, "03080", "Korea, Republic of", 37.566, 126.9784, 4.0, "+82 2 555"),
    ("Taipei", None, "100", "Taiwan", 25.04776, 121.53185, 2.0, "+886 2 5550"),
    ("São Paulo", "SP", "01246-000", "Brazil", -23.5475, -46.63611, 4.0, "+55 11 5550"),
    ("Porto Alegre", "Rio Grande do Sul", "90035-903", "Brazil", -30.03306, -51.23, 2.0,
     "+55 51 5550"),
    ("Mumbai", "Maharashtra", "400012", "India", 19.07283, 72.88261, 3.0, "+91 22 5550"),
    ("New Delhi", "Delhi", "110029", "India", 28.63576, 77.22445, 3.0, "+91 11 5550"),
    ("Sydney", "New South Wales", "2050", "Australia", -33.86785, 151.20732, 4.0,
     "+61 2 5550"),
    ("Melbourne", "Victoria", "3000", "Australia", -37.814, 144.96332, 4.0, "+61 3 5550"),
    ("Cairo", None, "11562", "Egypt", 30.06263, 31.24967, 2.0, "+20 2 555"),
    ("Assiut", None, "71515", "Egypt", 27.18096, 31.18368, 1.0, "+20 88 555"),
    ("Mexico City", None, "14080", "Mexico", 19.42847, -99.12766, 2.0, "+52 55 5550"),
    ("Buenos Aires", None, "C1425", "Argentina", -34.61315, -58.37723, 2.0, "+54 11 5550"),
    ("Istanbul", None, "34093", "Turkey", 41.01384, 28.94966, 2.0, "+90 212 555"),
    ("Warsaw", None, "02-097", "Poland", 52.22977, 21.01178, 2.0, "+48 22 555"),
    ("Amsterdam", None, "1105 AZ", "Netherlands", 52.37403, 4.88969, 2.0, "+31 20 555"),
    ("Leuven", None, "3000", "Belgium", 50.87959, 4.70093, 2.0, "+32 16 555"),
    ("Tel Aviv", None, "6423906", "Israel", 32.08088, 34.78057, 2.0, "+972 3 555"),
    ("Johannesburg", "Gauteng", "2193", "South Africa", -26.20227, 28.04363, 1.0,
     "+27 11 555"),
)  # fmt: skip


class _City(NamedTuple):
    city: str
    state: str | None
    zip: str | None
    country: str
    lat: float
    lon: float
    weight: float
    area: str  # phone area code, or country and area prefix outside North America
    nanp: bool  # North American numbering plan (US, Canada)


CITIES: tuple[_City, ...] = tuple(
    _City(*row, nanp=row[3] in ("United States", "Canada")) for row in _CITY_ROWS
)
_CITY_TABLE = _Weighted((c, c.weight) for c in CITIES)
_CITIES_BY_COUNTRY: dict[str, _Weighted[_City]] = {
    country: _Weighted((c, c.weight) for c in CITIES if c.country == country)
    for country in {c.country for c in CITIES}
}
_SITE_COUNT_TABLE = _Weighted(
    (
        (1, 38.0),
        (2, 18.0),
        (3, 12.0),
        (4, 9.0),
        (5, 5.0),
        (6, 4.0),
        (7, 3.0),
        (8, 2.5),
        (9, 2.0),
        (10, 1.5),
        (11, 1.2),
        (12, 1.0),
        (13, 0.8),
        (14, 0.6),
        (15, 0.5),
    )
)

# --------------------------------------------------------------------------------------
# Text: summaries, descriptions, eligibility
# --------------------------------------------------------------------------------------

_OBSERVATIONAL_TITLES: tuple[str, ...] = (
    "{cond} Registry",
    "Long-term Outcomes in {cond}",
    "Biomarkers of Disease Progression in {cond}",
    "Real-world Treatment Patterns in {pop} With {cond}",
    "Quality of Life in {cond}: an Observational Study",
)
_DRUG_TITLES: tuple[str, ...] = (
    "A Study of {iv} in {pop} With {cond}",
    "{iv} for {cond}",
    "Safety and Efficacy of {iv} in {cond}",
    "{iv} Compared With Placebo in {pop} With {cond}",
    "{iv} Plus Standard Therapy for {cond}",
)
_NON_DRUG_TITLES: tuple[str, ...] = (
    "{iv} for {pop} With {cond}",
    "Effect of {iv} on Quality of Life in {cond}",
    "{iv} in {cond}",
)
_DRUG_DESIGNS: tuple[str, ...] = (
    "Randomized, Double-blind, Placebo-controlled",
    "Open-label, Single-arm",
    "Randomized, Open-label",
    "Dose-escalation",
)
_DRUG_AIMS: tuple[str, ...] = (
    "Efficacy and Safety",
    "Safety, Tolerability and Pharmacokinetics",
    "Efficacy",
)
_FICTIONAL_NOTES: tuple[str, ...] = (
    "This is a fictional demonstration study created for the TrialFinder demo site; it does "
    "not exist and is not enrolling anyone.",
    "Please note: this study is fictional and exists only to demonstrate how TrialFinder works.",
    "This record describes a fictional demonstration study, not a real clinical trial.",
    "Everything on this page is fictional demonstration data; no real study, site or person "
    "is described.",
    "This fictional demonstration study was generated for testing and has no real sponsor "
    "or sites.",
)
_DRUG_PURPOSES: tuple[str, ...] = (
    "This study looks at whether {iv} can help {pop} with {cond}.",
    "The purpose of this study is to learn about the safety of {iv} in {pop} with {cond}.",
    "Researchers want to find out if {iv} works better than a placebo for {cond}.",
    "This study compares {iv} with standard treatment in {pop} with {cond}.",
    "The main goal is to find a safe dose of {iv} for {pop} living with {cond}.",
)
_NON_DRUG_PURPOSES: tuple[str, ...] = (
    "This study tests whether {iv} improves daily life for {pop} with {cond}.",
    "Researchers want to learn if {iv} is better than usual care for {cond}.",
    "The goal of this study is to see whether {pop} with {cond} can use {iv} at home.",
)
_OBSERVATIONAL_PURPOSES: tuple[str, ...] = (
    "This observational study follows {pop} with {cond} over time to learn how the "
    "condition changes.",
    "The study collects health information from {pop} with {cond} during routine care.",
    "Researchers will look for blood markers that predict how {cond} progresses.",
)
_PLACEBO_SENTENCE = (
    "Some participants will receive a placebo, which looks like the study treatment but has "
    "no active ingredient."
)
_DETAIL_SENTENCES: tuple[str, ...] = (
    "Participants will take part for about {months} months and visit the clinic {visits} times.",
    "About {enrollment} participants will be enrolled at {sites}.",
    "Study visits include blood tests, questionnaires and a physical exam.",
    "Participants can leave the study at any time.",
    "Travel costs for study visits may be reimbursed.",
)
_DESCRIPTION_PARAGRAPHS: tuple[str, ...] = (
    "{cond} affects many people and current treatments do not work well for everyone. "
    "This fictional study was designed to show what a longer description looks like.",
    "After a screening period of up to {screen} weeks, eligible participants are assigned "
    "to a study group. Follow-up continues for {months} months after the last dose.",
    "The primary outcome is the change from baseline in a disease activity score. "
    "Secondary outcomes include quality of life, safety and tolerability.",
    "Data are collected on paper and electronic forms and reviewed by an independent "
    "monitoring committee at regular intervals.",
)

_INCLUSION_GENERIC: tuple[str, ...] = (
    "Diagnosis of {cond} confirmed by a study doctor",
    "Documented diagnosis of {cond} for at least {n} months before screening",
    "Able and willing to give written informed consent",
    "Willing to attend all scheduled study visits and follow study procedures",
    "Stable dose of current medication for at least {n} weeks before the first visit",
    "Body mass index between 18.5 and 40 kg/m2",
    "Able to read and understand the study questionnaires",
    "Lives within reasonable travel distance of the study site",
    "Has a smartphone with internet access",
)
_INCLUSION_ONCOLOGY: tuple[str, ...] = (
    "ECOG performance status 0-1",
    "At least one measurable lesion (RECIST version 1.1)",
    "Expected to live at least 3 more months, in the judgment of the study doctor",
    "At least one prior line of systemic therapy",
)
_ORGAN_FUNCTION_HEAD = "Adequate organ function, defined as:"
_ORGAN_FUNCTION_ITEMS: tuple[str, ...] = (
    "Absolute neutrophil count \\>= 1.5 x 10^9/L",
    "Platelets \\>= 100 x 10^9/L",
    "Hemoglobin \\>= 9 g/dL",
    "Creatinine clearance \\> 50 mL/min",
    "Total bilirubin \\<= 1.5 x ULN",
)
_INCLUSION_CHILD: tuple[str, ...] = (
    "Parent or legal guardian able to give consent, and assent from the child when appropriate",
    "Weight of at least 5 kg at screening",
    "Up to date with routine childhood vaccinations",
)
_INCLUSION_FEMALE: tuple[str, ...] = (
    "Women of childbearing potential must agree to use effective contraception during the study",
    "Negative pregnancy test at screening",
)
_EXCLUSION_GENERIC: tuple[str, ...] = (
    "Pregnant or breastfeeding, or planning a pregnancy during the study",
    "Participation in another interventional study within the last 30 days",
    "Known allergy to any component of the study treatment",
    "An active infection that needs treatment by mouth or injection",
    "Uncontrolled high blood pressure (systolic \\> 160 mmHg or diastolic \\> 100 mmHg)",
    "Any condition that, in the opinion of the investigator, would make participation unsafe",
    "Current alcohol or drug misuse",
    "Severe kidney impairment (eGFR \\< 30 mL/min/1.73 m2)",
    "ALT or AST \\> 3 x the upper limit of normal",
    "Planned major surgery during the study period",
    "Unable to follow study procedures or attend visits",
    "Received a live vaccine within 4 weeks before the first dose",
    "History of heart attack or stroke within the last 6 months",
    "Took part in this study before",
)
_EXCLUSION_ONCOLOGY: tuple[str, ...] = (
    "Untreated or symptomatic brain metastases",
    "Another cancer within the past 5 years, except treated basal cell carcinoma of the skin",
    "Prior treatment with a drug of the same class",
)
_HEADINGS: tuple[tuple[str, str], ...] = (
    ("Inclusion Criteria:", "Exclusion Criteria:"),
    ("Inclusion Criteria:", "Exclusion Criteria:"),
    ("Inclusion Criteria:", "Exclusion Criteria:"),
    ("INCLUSION CRITERIA:", "EXCLUSION CRITERIA:"),
    ("Key Inclusion Criteria:", "Key Exclusion Criteria:"),
    ("Inclusion criteria", "Exclusion criteria"),
    ("Inclusion Criteria", "Exclusion Criteria"),
)
_CRITERIA_STYLE = _Weighted(
    (
        ("star", 45.0),
        ("numbered", 15.0),
        ("dash", 10.0),
        ("wrapped", 10.0),
        ("escaped", 5.0),
        ("inline", 5.0),
        ("noheading", 10.0),
    )
)


def _wrap(text: str, width: int, indent: str) -> str:
    """Break a long line the way some registry entries are hard-wrapped."""
    if len(text) <= width:
        return text
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return ("\n" + indent).join(lines)


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("ALT")."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _age_item(low: str | None, high: str | None) -> str:
    if low is None and high is None:
        return "Any age"
    low_text = low.lower() if low else None
    high_text = high.lower() if high else None
    if low_text and high_text:
        return f"Aged {low_text.split()[0]} {low_text.split()[1]} to {high_text}"
    if low_text:
        return f"Age \\>= {low_text}"
    return f"Age \\<= {high_text}"


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------


class _Builder:
    """Builds one study at a time from a single random stream."""

    def __init__(self, seed: int) -> None:
        self.rng = _FastRandom(seed)
        self.seed = seed

    # -- small helpers ------------------------------------------------------------------

    def person(self) -> tuple[str, str]:
        """(display name, e-mail local part)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            k = int(roll / 0.08 * len(_TEAM_NAMES))
            return _TEAM_NAMES[k], _TEAM_SLUGS[k]
        person = rng.one(_PEOPLE)
        name = person.name + rng.one(_CREDENTIALS)
        if roll < 0.54:
            return name, person.dotted
        return name, f"{person.short}{int(roll * 1000) % 99 + 1}"

    def phone(self, city: _City) -> str:
        """A number in a reserved fictional range (US/Canada 555-01xx)."""
        roll = self.rng.random()
        if city.nanp:
            tail = int(roll * 10_000) % 100
            if roll < 0.5:
                return f"+1 {city.area}-555-01{tail:02d}"
            if roll < 0.8:
                return f"{city.area}-555-01{tail:02d}"
            return f"({city.area}) 555-01{tail:02d}"
        return f"{city.area} 0{int(roll * 1000):03d}"

    def contact(self, city: _City, domain: str) -> dict[str, Any]:
        rng = self.rng
        name, local = self.person()
        out: dict[str, Any] = {"name": name, "role": "CONTACT"}
        roll = rng.random()
        if roll >= 0.03:  # 3% e-mail only
            out["phone"] = self.phone(city)
            if roll > 0.95:
                out["phoneExt"] = str(int(roll * 1_000_000) % 9000 + 1000)
        if roll < 0.03 or roll > 0.08:  # 5% phone only
            out["email"] = f"{local}@{domain}"
        return out

    # -- sections ------------------------------------------------------------------------

    def conditions(self) -> list[_Condition]:
        rng = self.rng
        primary = _CONDITION_TABLE.pick(rng)
        chosen = [primary]
        companions = _COMPANIONS[primary.name]
        if companions:
            roll = rng.random()
            extra = 2 if roll < 0.12 else 1 if roll < 0.40 else 0
            for _ in range(extra):
                candidate = rng.one(companions)
                if candidate not in chosen:
                    chosen.append(candidate)
        return chosen

    def dates(self, status: str) -> dict[str, Any]:
        """Status dates as day offsets from the reference date, then formatted."""
        rng = self.rng
        ri = rng.between
        start_type = primary_type = "ESTIMATED"
        if status in ("RECRUITING", "ENROLLING_BY_INVITATION"):
            start = -ri(20, 1500)
            start_type = "ACTUAL"
            first_post = min(start + ri(-90, 30), -1)
            last_update = max(-ri(1, 330), first_post)
            primary = ri(62, 1460)
            if rng.random() < STALE_SHARE:
                mode = rng.random()
                if mode < 0.8:
                    last_update = -ri(400, 1400)
                if mode >= 0.5:
                    primary = -ri(30, 700)
                    start = min(start, primary - ri(180, 900))
                start = min(start, last_update - ri(30, 400))
                first_post = min(first_post, start + ri(-60, 30), last_update)
        elif status == "NOT_YET_RECRUITING":
            start = ri(10, 300)
            first_post = -ri(1, 180)
            last_update = first_post + ri(0, -first_post - 1)
            primary = start + ri(180, 1460)
        elif status in ("ACTIVE_NOT_RECRUITING", "SUSPENDED"):
            start = -ri(500, 3000)
            start_type = "ACTUAL"
            first_post = start + ri(-60, 30)
            last_update = -ri(1, 450)
            if status == "ACTIVE_NOT_RECRUITING" and rng.random() < 0.5:
                primary = max(-ri(30, 600), start + 180)
                primary_type = "ACTUAL"
            else:
                primary = ri(62, 1000)
        elif status == "WITHDRAWN":
            start = -ri(30, 900)
            first_post = start - ri(30, 200)
            last_update = min(start + ri(0, 200), -1)
            primary = start + ri(365, 1000)
        else:  # COMPLETED, TERMINATED
            primary = -ri(60, 2500)
            primary_type = "ACTUAL"
            start = primary - ri(180, 1800)
            start_type = "ACTUAL"
            first_post = start + ri(-60, 60)
            last_update = min(primary + ri(10, 500), -1)
        first_post = min(first_post, last_update)
        completion = primary + (ri(0, 730) if rng.random() < 0.6 else 0)
        if status in ("COMPLETED", "TERMINATED"):
            completion = min(completion, last_update - 5)
        completion_type = primary_type
        if primary_type == "ACTUAL" and completion > -1:
            completion_type = "ESTIMATED"
        elif primary_type == "ESTIMATED" and status in ("COMPLETED", "TERMINATED"):
            completion_type = "ACTUAL"

        month_only = rng.random() < 0.5
        first_post_text = _day(first_post)
        last_update_text = _day(last_update)
        start_text = _day(start)[:7] if month_only else _day(start)
        primary_text = _day(primary)[:7] if month_only else _day(primary)
        completion_text = _day(completion)[:7] if month_only else _day(completion)
        start_struct: dict[str, Any] = {"date": start_text}
        if rng.random() < 0.9:
            start_struct["type"] = start_type
        return {
            "statusVerifiedDate": last_update_text[:7],
            "overallStatus": status,
            "startDateStruct": start_struct,
            "primaryCompletionDateStruct": {"date": primary_text, "type": primary_type},
            "completionDateStruct": {"date": completion_text, "type": completion_type},
            "studyFirstSubmitDate": _day(first_post - ri(1, 20)),
            "studyFirstPostDateStruct": {"date": first_post_text, "type": "ACTUAL"},
            "lastUpdateSubmitDate": _day(last_update - ri(0, 3)),
            "lastUpdatePostDateStruct": {"date": last_update_text, "type": "ACTUAL"},
        }

    def eligibility_text(
        self,
        conditions: list[_Condition],
        low: str | None,
        high: str | None,
        sex: str | None,
    ) -> str:
        rng = self.rng
        primary = conditions[0]
        cond = primary.name
        n_value = rng.one((3, 4, 6, 8, 12))
        inclusion: list[tuple[str, tuple[str, ...]]] = [(_age_item(low, high), ())]
        for item in rng.some(_INCLUSION_GENERIC, rng.between(2, 4)):
            inclusion.append((item.format(cond=cond, n=n_value), ()))
        if primary.domain == "oncology":
            inclusion.append((rng.one(_INCLUSION_ONCOLOGY), ()))
            if rng.random() < 0.6:
                subs = tuple(rng.some(_ORGAN_FUNCTION_ITEMS, rng.between(2, 4)))
                inclusion.append((_ORGAN_FUNCTION_HEAD, subs))
        if primary.ages == "child":
            inclusion.append((rng.one(_INCLUSION_CHILD), ()))
        elif sex == "FEMALE" and primary.ages == "repro" and not primary.pregnancy:
            inclusion.append((rng.one(_INCLUSION_FEMALE), ()))
        exclusion = rng.some(_EXCLUSION_GENERIC, rng.between(2, 5))
        if primary.domain == "oncology":
            exclusion.append(rng.one(_EXCLUSION_ONCOLOGY))
        if sex == "MALE" or primary.ages == "child" or primary.pregnancy:
            exclusion = [e for e in exclusion if not e.startswith("Pregnant")] or [
                _EXCLUSION_GENERIC[1]
            ]

        style = _CRITERIA_STYLE.pick(rng)
        head_in, head_ex = rng.one(_HEADINGS)
        if style == "inline":
            inc = "; ".join(
                f"{text.rstrip(':')} {', '.join(subs)}" if subs else text
                for text, subs in inclusion
            )
            return f"{head_in} {inc}.\n{head_ex} {'; '.join(exclusion)}."
        lines: list[str] = []
        if style == "noheading":
            for text, subs in inclusion:
                lines.append(f"- {text}")
                lines.extend(f"  - {s}" for s in subs)
            lines.append("")
            lines.append(
                "People with any of the following cannot take part: "
                + "; ".join(_lower_first(e) for e in exclusion)
            )
            return "\n".join(lines)
        for heading, items in (
            (head_in, inclusion),
            (head_ex, [(e, ()) for e in exclusion]),
        ):
            if lines:
                lines.append("")
            lines.append(heading)
            lines.append("")
            for number, (text, subs) in enumerate(items, start=1):
                if style == "numbered":
                    lines.append(f"{number}. {text}")
                    lines.extend(f"   * {s}" for s in subs)
                elif style == "escaped":
                    lines.append(f"{number}\\. {text}")
                    lines.extend(f"   * {s}" for s in subs)
                elif style == "dash":
                    lines.append(f"- {text}")
                    lines.extend(f"  - {s}" for s in subs)
                elif style == "wrapped":
                    lines.append("* " + _wrap(text, 60, "  "))
                    lines.extend(f"  * {s}" for s in subs)
                else:
                    lines.append(f"* {text}")
                    lines.extend(f"  * {s}" for s in subs)
        return "\n".join(lines)

    def locations(
        self, status: str, n_sites: int, child: bool
    ) -> tuple[list[dict[str, Any]], _City]:
        rng = self.rng
        first = _CITY_TABLE.pick(rng)
        one_country = rng.random() < 0.6
        same_country = _CITIES_BY_COUNTRY[first.country]
        facilities = _CHILD_FACILITIES if child and rng.random() < 0.5 else _FACILITIES
        n_fac = len(facilities)
        open_study = status in OPEN_STATUSES
        recruiting = status == "RECRUITING"
        sites: list[dict[str, Any]] = []
        for index in range(n_sites):
            if index == 0:
                city = first
            elif one_country:
                city = same_country.pick(rng)
            else:
                city = _CITY_TABLE.pick(rng)
            site: dict[str, Any] = {"facility": facilities[rng.below(n_fac)]}
            roll = rng.random()
            if recruiting:
                if roll < 0.8:
                    site["status"] = "RECRUITING"
                elif roll < 0.9:
                    site["status"] = rng.one(_OTHER_SITE_STATUSES)
            elif open_study or status in ("ACTIVE_NOT_RECRUITING", "SUSPENDED"):
                if roll < 0.9:
                    site["status"] = status
            elif roll < 0.3:
                site["status"] = status
            site["city"] = city.city
            if city.state is not None:
                site["state"] = city.state
            if city.zip is not None:
                site["zip"] = city.zip
            site["country"] = city.country
            roll = rng.random()
            if roll >= 0.10:
                contacts = [self.contact(city, "example.org")]
                if roll >= 0.55:
                    if rng.random() < 0.15:
                        contacts.append(
                            {"name": self.person()[0], "role": "PRINCIPAL_INVESTIGATOR"}
                        )
                    else:
                        contacts.append(self.contact(city, "example.org"))
                site["contacts"] = contacts
            if rng.random() >= 0.03:
                site["geoPoint"] = {
                    "lat": round(city.lat + (rng.random() - 0.5) * 0.1, 5),
                    "lon": round(city.lon + (rng.random() - 0.5) * 0.1, 5),
                }
            sites.append(site)
        return sites, first

    # -- the study -----------------------------------------------------------------------

    def study(self, index: int) -> dict[str, Any]:
        rng = self.rng
        nct = nct_id(self.seed, index)

        conditions = self.conditions()
        primary = conditions[0]
        status = _STATUS_TABLE.pick(rng)
        observational = rng.random() < 0.2
        phases: tuple[str, ...] = () if observational else _PHASE_TABLE.pick(rng)
        drug = bool(phases) and phases != ("NA",)

        # People
        sex = primary.sex if primary.sex is not None else _UNFORCED_SEX.pick(rng)
        low, high = _pick_ages(rng, primary.ages)
        std_ages = _std_ages(_AGE_YEARS[low], _AGE_YEARS[high])
        child_only = std_ages == ["CHILD"]
        if child_only:
            pop = "children"
        elif sex == "FEMALE":
            pop = "women"
        elif sex == "MALE":
            pop = "men"
        elif "CHILD" in std_ages:
            pop = "children and adults"
        elif primary.ages == "older":
            pop = "older adults"
        else:
            pop = "adults"

        # Intervention
        if drug:
            if rng.random() < 0.5:
                iv_title = iv_text = rng.one(_DRUG_NAMES).capitalize()
            else:
                prefix = rng.one(_DRUG_CODE_PREFIXES)
                iv_title = iv_text = f"{prefix}-{rng.between(100, 9999)}"
        else:
            iv_title, iv_text = rng.one(_NON_DRUG_INTERVENTIONS)

        # Sponsor
        roll = rng.random()
        if drug and roll < 0.55:
            sponsor, sponsor_class = rng.one(_INDUSTRY_SPONSORS), "INDUSTRY"
        elif roll > 0.97:
            sponsor, sponsor_class = rng.one(_OTHER_GOV_SPONSORS), "OTHER_GOV"
        elif roll > 0.95:
            sponsor, sponsor_class = rng.one(_NETWORK_SPONSORS), "NETWORK"
        else:
            sponsor = rng.one(_ACADEMIC_SPONSORS)
            sponsor_class = "OTHER"

        # Titles
        cond = primary.name
        pop_title = pop.title().replace(" And ", " and ")
        title_fields = {"iv": iv_title, "pop": pop_title, "cond": cond}
        if observational:
            brief = rng.one(_OBSERVATIONAL_TITLES).format(**title_fields)
            official = (
                f"A Prospective, {rng.one(('Multicenter', 'Single-center'))}, Observational "
                f"Cohort Study of {pop_title} With {cond}"
            )
        elif drug:
            brief = rng.one(_DRUG_TITLES).format(**title_fields)
            official = (
                f"A {_PHASE_TEXT[phases]}, {rng.one(_DRUG_DESIGNS)}, Multicenter Study to "
                f"Evaluate the {rng.one(_DRUG_AIMS)} of {iv_title} in {pop_title} With {cond}"
            )
        else:
            brief = rng.one(_NON_DRUG_TITLES).format(**title_fields)
            official = (
                f"A Randomized Controlled Trial of {iv_title} Compared With Usual Care in "
                f"{pop_title} With {cond}"
            )

        identification: dict[str, Any] = {
            "nctId": nct,
            "orgStudyIdInfo": {"id": f"DEMO-{nct[-6:]}"},
            "organization": {"fullName": sponsor, "class": sponsor_class},
            "briefTitle": brief,
            "officialTitle": official,
        }
        if rng.random() < 0.3:
            word = rng.one(_ACRONYM_WORDS)
            identification["acronym"] = (
                word if rng.random() < 0.6 else f"{word}-{rng.between(1, 9)}"
            )

        # Sites
        n_sites = _SITE_COUNT_TABLE.pick(rng)
        sites, home = self.locations(status, n_sites, child_only)

        # Summary
        fmt = {"iv": iv_text, "pop": pop, "cond": cond}
        if observational:
            purpose = rng.one(_OBSERVATIONAL_PURPOSES).format(**fmt)
        elif drug:
            purpose = rng.one(_DRUG_PURPOSES).format(**fmt)
        else:
            purpose = rng.one(_NON_DRUG_PURPOSES).format(**fmt)
        note = rng.one(_FICTIONAL_NOTES)
        enrollment = 0 if status == "WITHDRAWN" else max(8, int(rng.lognormvariate(4.3, 1.0)))
        sentences = [purpose]
        details = rng.some(_DETAIL_SENTENCES, rng.between(0, 2))
        if drug and details and rng.random() < 0.4:
            details[-1] = _PLACEBO_SENTENCE
        for detail in details:
            sentences.append(
                detail.format(
                    months=rng.one((3, 6, 12, 18, 24)),
                    visits=rng.between(3, 12),
                    enrollment=max(enrollment, 20),
                    sites="one site" if n_sites == 1 else f"{n_sites} sites",
                )
            )
        if rng.random() < 0.5:
            sentences.append(note)
        else:
            sentences.insert(0, note)
        description: dict[str, Any] = {"briefSummary": " ".join(sentences)}
        if rng.random() < 0.4:
            paragraphs = rng.some(_DESCRIPTION_PARAGRAPHS, rng.between(2, 3))
            description["detailedDescription"] = "\n\n".join(
                p.format(cond=cond, screen=rng.one((2, 4, 6)), months=rng.one((6, 12)))
                for p in paragraphs
            )

        # Conditions and keywords
        conditions_module: dict[str, Any] = {"conditions": [c.name for c in conditions]}
        n_keywords = rng.between(0, 4)
        if n_keywords:
            pool = primary.keywords
            keywords = rng.some(pool, min(n_keywords, len(pool)))
            if n_keywords > len(pool) and not observational:
                keywords.append(iv_title)
            conditions_module["keywords"] = keywords

        meshes = [{"id": c.mesh[0], "term": c.mesh[1]} for c in conditions]
        if len(conditions) == 1:
            ancestors = [{"id": a, "term": t} for a, t in primary.ancestors]
        else:
            seen: set[str] = {c.mesh[0] for c in conditions}
            ancestors = []
            for c in conditions:
                for a, t in c.ancestors:
                    if a not in seen:
                        seen.add(a)
                        ancestors.append({"id": a, "term": t})

        design: dict[str, Any] = {
            "studyType": "OBSERVATIONAL" if observational else "INTERVENTIONAL"
        }
        if observational:
            design["patientRegistry"] = rng.random() < 0.3
        else:
            design["phases"] = list(phases)
        design["enrollmentInfo"] = {
            "count": enrollment,
            "type": "ACTUAL" if status in ("COMPLETED", "TERMINATED", "WITHDRAWN") else "ESTIMATED",
        }

        healthy_share = 0.25 if phases in (("PHASE1",), ("EARLY_PHASE1",)) else 0.06
        eligibility: dict[str, Any] = {
            "eligibilityCriteria": self.eligibility_text(conditions, low, high, sex),
            "healthyVolunteers": rng.random() < healthy_share,
        }
        if sex is not None:
            eligibility["sex"] = sex
        if low is not None:
            eligibility["minimumAge"] = low
        if high is not None:
            eligibility["maximumAge"] = high
        eligibility["stdAges"] = std_ages

        contacts_locations: dict[str, Any] = {}
        roll = rng.random()
        n_central = (
            (0 if roll < 0.15 else 1 if roll < 0.6 else 2)
            if status in OPEN_STATUSES
            else (0 if roll < 0.7 else 1)
        )
        if n_central:
            domain = _CENTRAL_DOMAINS[rng.below(3)]
            contacts_locations["centralContacts"] = [
                self.contact(home, domain) for _ in range(n_central)
            ]
        contacts_locations["locations"] = sites

        return {
            "protocolSection": {
                "identificationModule": identification,
                "statusModule": self.dates(status),
                "sponsorCollaboratorsModule": {
                    "responsibleParty": {"type": "SPONSOR"},
                    "leadSponsor": {"name": sponsor, "class": sponsor_class},
                },
                "descriptionModule": description,
                "conditionsModule": conditions_module,
                "designModule": design,
                "eligibilityModule": eligibility,
                "contactsLocationsModule": contacts_locations,
            },
            "derivedSection": {
                "conditionBrowseModule": {"meshes": meshes, "ancestors": ancestors},
            },
            "hasResults": False,
        }


def nct_id(seed: int, index: int) -> str:
    """The fictional NCT ID of study `index` in the run with `seed`: "NCT9" + 7 digits.

    Real IDs are still far below NCT90000000, so these cannot collide with a real study. The
    seed's last digit picks a block of a million and the index counts within it, as in
    f"NCT9{seed % 10}{index:06d}"; past a million the number wraps modulo 10^7, so any run
    of up to `MAX_STUDIES` studies has unique IDs.
    """
    return f"NCT9{((seed % 10) * 1_000_000 + index) % MAX_STUDIES:07d}"


def generate_studies(count: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield `count` fictional API v2 study objects; the same seed gives the same studies.

    Each call builds fresh objects, so callers may mutate them. A shorter run is a prefix
    of a longer one with the same seed. NCT IDs are "NCT9" + 7 digits, unique within a run
    of up to `MAX_STUDIES` studies.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if count > MAX_STUDIES:
        raise ValueError(f"count must be at most {MAX_STUDIES:,} to keep NCT IDs unique")
    return _iterate(count, seed)


def _iterate(count: int, seed: int) -> Iterator[dict[str, Any]]:
    builder = _Builder(seed)
    for index in range(count):
        yield builder.study(index)


def vocabulary_sizes() -> dict[str, int]:
    """How many distinct values each hand-written table holds (for docs and reports)."""
    return {
        "conditions": len(CONDITIONS),
        "mesh_ancestors": len({a for c in CONDITIONS for a in c.ancestors}),
        "cities": len(CITIES),
        "countries": len({c.country for c in CITIES}),
        "facilities": len(_FACILITIES) + len(_CHILD_FACILITIES),
        "sponsors": len(_ACADEMIC_SPONSORS)
        + len(_INDUSTRY_SPONSORS)
        + len(_OTHER_GOV_SPONSORS)
        + len(_NETWORK_SPONSORS),
        "drug_names": len(_DRUG_NAMES),
        "non_drug_interventions": len(_NON_DRUG_INTERVENTIONS),
        "first_names": len(_FIRST_NAMES),
        "last_names": len(_LAST_NAMES),
        "people": len(_PEOPLE),
    }
