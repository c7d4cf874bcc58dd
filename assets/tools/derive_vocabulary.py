#!/usr/bin/env python3
"""Derive the ESCO creative-industries subset of the matching vocabulary.

Usage:
    python3 assets/tools/derive_vocabulary.py DATA_DIR [-o OUT_DIR] [--own OWN_LABELS]

DATA_DIR holds the ESCO exports skills_multilingual.csv and
broader_relations_skill_pillar.csv (either directly or in an esco/ folder).
OUT_DIR defaults to the assets/vocabulary folder next to this script; the
script writes esco_concepts.csv and esco_labels.csv there.

OWN_LABELS defaults to OUT_DIR/own_labels.csv, our hand-written label layer.
When it exists, an ESCO alternative label that is also one of our own labels
for a different concept is dropped: our reviewed layer wins.

The subset rule (documented in assets/vocabulary/README.md, "How the subset
was chosen"):

1. The labels of a concept are its English preferred and alternative labels;
   its text is the labels plus its English description. The phrases of
   FALSE_FRIENDS ("state of the art", "software architecture", "game meat",
   "plastic film", ...) are blanked out of both before matching.
2. A concept is a keyword candidate when its labels match one of
   LABEL_KEYWORDS, or its text matches one of TEXT_KEYWORDS (phrases that are
   creative in any context), or its text matches both patterns of one of the
   CO_OCCURRING pairs (e.g. "restoration" together with "art" or "heritage").
3. Each of the ROOTS, and every concept below one of them through the broader
   relations, is a candidate too.
4. A candidate is dropped when its English preferred label matches VETO
   (machine tending, manufacturing, animals, medicine and therapy, vehicles,
   food, ...) or is listed in EXCLUDE, unless it is in MUST_INCLUDE.
5. Every concept of MUST_INCLUDE (the main concept of each discipline the
   service must know) is in the subset; the script stops if one is missing from
   the data or has another preferred label than expected.

Labels: English and French preferred and alternative labels of each concept in
the subset. Whitespace is trimmed and runs of spaces collapsed; empty labels
are skipped, and so are the few labels of DROP_LABELS; within one concept and
language, labels that fold to the same text (case, accents and punctuation folded as the matcher folds) are kept once,
the preferred label first.

Clashes between concepts are judged on the matcher's second lookup key (folded,
plural endings stemmed, word order ignored; see match_key) and across languages,
as the matcher's indexes do not separate languages. An alternative label is
dropped when its key is also the key of one of our own labels for another
concept, or of another concept's preferred label, or of alternative labels of
several concepts and of no preferred label (ambiguous). A preferred label is
dropped only when several concepts have the very same folded preferred label in
that language. Preferred labels of different concepts that merely share a key
("graphic design", "design graphics") are kept and listed: the exact lookup,
which comes first, tells them apart. Every dropped label is counted, and those
that give way to our own labels are printed (all with --verbose).

Python 3 standard library only. Running it again on the same inputs gives
byte-identical files.
"""

import argparse
import csv
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

ESCO = "http://data.europa.eu/esco/skill/"

# --- 1. false friends: phrases blanked out of the text before keyword matching
FALSE_FRIENDS = [
    r"state[- ]of[- ]the[- ]art", r"martial arts?", r"culinary arts?", r"\bart of\b", r"\bthe art\b",
    r"artificial\w*", r"\bliberal arts\b", r"\bindustrial arts\b",
    r"game (meat|species|shoots?|management|animals?|birds?|keeping|rearing|equipment|area|protecting)",
    r"wild game", r"gamekeep\w*", r"(rear|protect|guard|guarding|sale of|benefit) game\b", r"\bgaming\b",
    r"\b(gambling|betting|casino|lottery|bingo|sport|sports) games?\b",
    r"(software|ict|network|systems?|enterprise|cloud|data|solutions?|hardware|computer|security|service|"
    r"integration|business|application|technical|it|soa|microservices?|information|tram) architect\w*",
    r"architect\w* (of|for) (an? |the )?(ict|software|systems?|networks?|information systems?|computer|production|"
    r"trams?)",
    r"(plastic|thin|shrink|cling|blown|protective|polymer|packaging|window|adhesive|oil|water) films?",
    r"film[- ]coat\w*", r"film thickness",
    r"video[- ]?(telemetry|surveillance|inspection|conferenc\w*|assisted)", r"pipeline video",
    r"(cctv|surveillance|security|speed|traffic) cameras?",
    r"\becho[- ]?sound\w*", r"\bultrasound\w*", r"\bsound (judg\w*|financial|basis|decisions?)",
    r"(belt|pill|cattle|livestock) branding", r"branding (machines?|irons?)", r"tobacco brands?",
    r"radiolog\w* photograph\w*", r"medical (imag\w*|photograph\w*)", r"aerial photo\w*",
    r"tailor[- ]made", r"tailor(ed|ing|s)? (to|the|their|your|its|services|products|treatments?|programs?)",
    r"in (a|an|the|such a|this|that|any) [\w-]+ fashion", r"\bfashion(ing)? (metals?|chocolate|parts?|workpieces?|"
    r"the|a|an|it|items?|knowledge)\b",
    r"\bsmall craft", r"\b(water|air|space|hover|landing|rescue) ?craft",
    r"operating theat(re|er)s?", r"lecture theat(re|er)s?", r"theat(re|er)s? of (war|operations)",
    r"script(ing)? (programming|languages?)", r"\bscripting\b", r"shell scripts?", r"javascript", r"typescript",
    r"\blive ?script\b", r"(computer|programming|software) scripts?",
    r"social mediation", r"animat(e|ion) (in the outdoors|groups?|activities|outdoor\w*)",
    r"finger ?prints?", r"contrast media", r"media servers?",
    r"(culture|growth|filter|filtration|porous|storage|transmission|transport|recording) media\b",
    r"(aid|humanitarian|state|non-state|economic|market|political|social|other) actors", r"\bacting \w+ly\b",
    r"broadcast price\w*", r"illustrate (the|a|an|data|mathematical|results|findings|concepts|how)\b",
    r"narrative reports?", r"(public health|political|election|electoral) campaign\w*", r"political campaigning",
    r"printed circuit\w*", r"circuit boards?", r"literature (research|review|search)\w*", r"credit scores?",
    r"character recognition",
]

# --- 2. keywords
# Matched against the English preferred and alternative labels only.
LABEL_KEYWORDS = [
    # design and visual communication
    r"graphic design\w*", r"graphics? (software|editor|editing)", r"\bdesign graphics\b", r"\binfographic\w*",
    r"\bvisual (design|identity|communication|arts?|merchandis\w*|elements?|presentation|literacy)\w*",
    r"illustrat\w*", r"typograph\w*", r"typeset\w*", r"calligraph\w*", r"\blogos?\b", r"desktop publishing",
    r"\blayouts? (of|for) (advertis\w*|print\w*|pages?|publications?)", r"\bposters?\b",
    r"(product|industrial|packaging|package|furniture|exhibition|graphic|visual|interior|fashion|textile|jewel\w*|"
    r"costume|set|stage|lighting|sound|game|web|website|character|floral|garden|landscape|urban|font|lettering|"
    r"brand|logo|print|book|cover|poster|shop window|window|exhibit|zoo exhibit|make-up|puppet|clock) design\w*",
    r"\bdesign (graphics|animations?|lighting|props|costumes?|sets|scenery|furniture|jewel\w*|package|clothing|"
    r"clothes|footwear|accessories|logos?|posters?|websites?|user interfaces?|games?|characters?|exhibitions?|"
    r"interiors?|gardens?|landscapes?|stained glass|ornaments?|ornamental|floral|wearing apparel|fashion|"
    r"textiles?|prototypes?|sound|objects?|the physical outlook|miniature|musical|buildings?|spaces?|visual|"
    r"brand|campaign|advocacy|press kit|greeting cards?|materials for multimedia|woven|warp|weft|puppets?|"
    r"make-up|clocks?|scale models?|hair style)\w*",
    r"\bdevelop design (concepts?|ideas?)", r"\bdesign drawings\b", r"\bdesign(er|ers)\b", r"\bdesigners’",
    r"\baesthetic\w*", r"colou?r (theory|grading|correction|harmony|schemes?|profiles?)", r"\bmood boards?\b",
    r"retouch\w*", r"creativ\w*", r"\bdraw(ing)? (design|sketch|storyboard|make-up|prop)\w*", r"\bsketch\w*",
    r"\bdrawings? by hand\b", r"\boriginal drawings\b", r"\bartistic materials for drawing\b",
    # animation, film, video, photography, audiovisual
    r"\banimat(ion|ions|ed|or|ors|e)\b", r"motion graphics?", r"motion capture", r"\bmoving images\b",
    r"\bdigital images\b", r"\bcinema\w*", r"cinematograph\w*", r"\bfilms?\b", r"film(making|maker|makers)",
    r"motion pictures?", r"\bvideos?\b", r"\bcameras?\b", r"camerawork", r"photograph\w*", r"\bphotos?\b",
    r"\btake pictures\b", r"storyboard\w*", r"\baudiovisual\b", r"\baudio[- ]visual\b", r"\baudio\b",
    r"\bbroadcast\w*", r"\btelevision\b", r"\btv\b", r"\bradio (programme|program|show|station|broadcast)\w*",
    r"\bpodcast\w*", r"\bdubbing\b", r"subtitl\w*", r"voice[- ]over", r"post[- ]production", r"visual effects?",
    r"special effects?", r"compositing", r"\bsound\w*", r"soundtrack\w*", r"\bmix(ing)? (sound|audio|music|"
    r"multi-track)", r"\b(audio|sound|music|musical|video|multi-track|studio|vinyl|live|uncut|recorded) "
    r"recordings?\b", r"\brecording (studio|sessions?|source|audio|music|sound)\b", r"\brecord (music|audio|sound)",
    r"\b(stage|film|studio|3d|theatre|theatrical|scenic) light\w*",
    r"lighting (plan|cue|desk|console|rig|states?|effects?|crew)\w*", r"\bfollow spots?\b", r"\bshots?\b",
    r"\bfootage\b", r"\bscreen\w* (series|pilots?|films?)", r"\bmontage\b", r"\btelecine\b", r"\bnegatives\b",
    # games and digital media
    r"\b(video|digital|computer|mobile|online|board|serious|casual) ?games?\b", r"videogames?",
    r"\bgames? (design|develop|engines?|testing|concepts?|characters?|scenes?|levels?|mechanics|story|stories|"
    r"physical outlook)\w*", r"\b(developed|virtual) game\b", r"\btoys and games\b", r"\bgamers?\b",
    r"\bgameplay\b", r"\b3d\b", r"three-dimensional", r"virtual reality", r"augmented reality",
    r"multimedia", r"digital media", r"new media", r"user experience", r"\bux\b", r"user interface",
    r"\bui\b", r"interaction design", r"usability", r"web ?design", r"website", r"\bweb pages?\b", r"wireframe\w*",
    r"\bcad\b", r"\bcadd\b", r"autocad", r"computer[- ]aided design", r"computer assisted design",
    r"\brender(ing|s)?\b", r"\bpolygonal\b", r"\brig(ging)? 3d", r"\btextur(e|es|ing) maps?\b", r"\b3d textur\w*",
    r"combination of textures", r"\bdevelop digital content\b", r"\b(integrate|re-elaborate)\w* .*digital content",
    r"\blicen[cs]es related to digital content", r"\bcontent (creation|marketing|strategy|management|writing|"
    r"development|creator|titles?)\b", r"\b(web|online|multimedia|artistic|marketing) content\b",
    r"social media", r"online communit\w*", r"\bblog\w*", r"\bvlog\w*", r"\binfluencer\w*",
    r"\bsearch engine optimi[sz]ation\b", r"\bseo\b", r"\bweb analytics\b", r"\be-?mail marketing\b",
    # architecture and space
    r"architect\w*", r"interior (design|architect|decorat|plant)\w*", r"\bredecorat\w*", r"\bhome decoration\b",
    r"\broom aesthetics\b", r"landscape architect\w*", r"\blandscape (design|schemes?)\w*",
    r"urban (design|planning|regeneration|renewal)", r"scale models?", r"mock-ups?", r"\bmaquettes?\b",
    r"scenograph\w*", r"\bscenery\b", r"\bscenic\b", r"\bset (design|construction|building|pieces|models?|"
    r"changes?|images|materials|painting)\w*", r"\b(stage|theatre|theater|film|movie|television|rehearsal|"
    r"miniature) sets?\b", r"\bsets? (up )?on stage\b", r"stage (design|management|manager|equipment|layout|"
    r"effects?|props?|set|sets|decks?|weapons?|movement|machinery|technician|fright|actions?|lights?|lighting)\w*",
    r"\bon stage\b", r"backstage", r"\bprops?\b", r"\bhistoric (buildings?|architecture|sites?|monuments?)",
    r"\bmonuments?\b", r"\bperformance (space|environment|venue)s?\b",
    # fashion, textile, crafts
    r"\bfashion(s|able)?\b", r"garments?", r"\bwearing apparel\b", r"\bapparel\b", r"\bclothing (design|"
    r"collection|sizes|with accessories)\w*", r"\bwardrobe\b", r"\bdress (actors|performers|artists)\b",
    r"\bdressmak\w*", r"\bdress fittings?\b", r"pattern ?making", r"patternmak\w*", r"\bpatterns? for "
    r"(garments|clothing|wearing apparel|textile\w*|footwear|costumes|leather goods)", r"sewing patterns?",
    r"\bpattern (grading|cutting|parts)\b", r"\bpattern-cutting\b", r"costumes?", r"\bcouture\b", r"\bembroider\w*",
    r"\bknit(ting|ted|wear)?\b", r"\bweav(e|ing|er|ers)\b", r"\bwoven fabrics?\b", r"\btailor(ing|s)?\b",
    r"\bsew(ing|n)?\b", r"\bstitch\w*", r"\bbuttonhol\w*", r"\bpleat\w*", r"millinery", r"milliner\w*",
    r"\btextiles? (design\w*|art|patterns?|trends?|techniques?|articles)\b", r"\bdecorate textile",
    r"\bfabric (types|spreading)\b", r"\bproperties of fabrics\b", r"\bdistinguish fabrics\b",
    r"\bwigs?\b", r"\bmake-up (sketch|design|effects?|process|changeover|techniques)\w*",
    r"\bmake up performing artists\b", r"\bstyling (schedule|of artists)\b", r"\bstylists?\b",
    r"jewel\w*", r"\bgem(s|stones?|olog\w*)?\b", r"goldsmith\w*", r"silversmith\w*", r"\bsmithing\b",
    r"\bfiligree\b", r"\bwire wrapping\b", r"ceramic\w*", r"\bpotter(y|'s)\b", r"\bshape clay\b",
    r"\bclay (figures|sculpt\w*|model\w*)\b", r"\bglaze\b", r"\bporcelain\b", r"\bstoneware\b", r"\bearthenware\b",
    r"\bcraft(s|ing|ed|sman|smanship|speople|sperson)?\b", r"handicraft\w*", r"artisan\w*", r"sculpt\w*",
    r"mosaic\w*", r"stained glass", r"\bglass ?(art|design|paint\w*|engrav\w*|blow\w*|work\w*|decorat\w*)\b",
    r"\bcolou?r glass\b", r"wood ?carv\w*", r"\bcarv(e|ing|ings|ed)\b", r"\bsandcarv\w*", r"marquetry",
    r"\bgild\w*", r"engrav\w*", r"\betch\w*", r"printmak\w*", r"screen print\w*", r"lithograph\w*",
    r"\bbookbind\w*", r"\b(bind|unbind) books\b", r"musical instruments?", r"\binstrument mak\w*", r"\bluthier\w*",
    r"\bguitars?\b", r"\bpiano\b", r"\bviolins?\b", r"\bharpsichord\w*", r"\borgans? build\w*",
    r"\bleather goods\b", r"\bfootwear (design|collection|sketch|pattern|prototype|trend|models?|creation)\w*",
    r"\bwicker\b", r"\bbasket ?weav\w*", r"\bcarpet making\b", r"\bfurniture (design|style|restoration)\w*",
    r"\bantique\w*", r"\bantiquarian\b", r"\bornament\w*", r"\bdecorat(e|ive|ion|ing) (objects?|art|arts|items|"
    r"patterns?|finishes|painting|designs?|textile\w*|articles?|instruments?|ceramics?|glass|furniture)\w*",
    r"\bdecorative designs?\b", r"\bfloral\b", r"\bflower arrangements?\b", r"\bcandles?\b", r"\bpuppet\w*",
    # art, music, performing arts, heritage, writing
    r"\bart\b", r"\barts\b", r"\bartist\w*", r"artwork\w*", r"works? of art", r"\bpaintings\b",
    r"\bpainting (techniques|methods|equipment)\b", r"\b(create|original|2d|genre|set|decorative|mural|oil|"
    r"acrylic|watercolou?r|scenic) paint\w*", r"\bpaint sets\b", r"\bbody paint\w*",
    r"\b(original|architectural|design|set construction|accurate|2d|autocad) drawings?\b",
    r"\bdrawing (by hand|techniques|skills)\b", r"\bmusic\w*", r"\bsongs?\b", r"\bsing(ing|er|ers)?\b", r"\bvocal\w*",
    r"\bcompos(er|ers)\b",
    r"\bcompose (music|playlists?|songs?)", r"\b(musical|floral|image|artistic|photographic) compositions?\b",
    r"\borgani[sz]e compositions\b", r"\belements for a composition\b", r"\bcompositional\b",
    r"\b(musical|dance|music) scores?\b", r"\banalyze score\b", r"\bmelod\w*", r"\brhythm\w*",
    r"\binstrumental\w*", r"orchestra(s|l)?\b", r"orchestrat\w* music", r"\bconcerts?\b", r"\btheat(re|er|rical)\w*",
    r"\b(discuss|study|read) plays?\b", r"\bplay (productions?|scripts?|texts?)\b", r"\bplay the piano\b",
    r"\bplaywright\w*", r"\bdrama\w*", r"dramaturg\w*", r"\bacting\b", r"\bactors?\b", r"\bactor's\b",
    r"\bactress\w*", r"performing arts?", r"\bperformers?\b", r"\bperformers’", r"\b(live|artistic|musical|dance|"
    r"theatre|theatrical|stage|circus|music|public|street) performances?\b", r"\bperformance (equipment|"
    r"schedule|concepts?|aspects|art|light\w*)\b",
    r"\bperformance tours?\b",
    r"\bperform (on stage|live|music|dance|improvisation|stunts|scripted|for (young )?audiences?|in a public space|"
    r"with motion capture)", r"\bact for an audience\b", r"\bimprovis\w*", r"\bstunts?\b",
    r"\bfight (sequences?|discipline|scenes?|directors?|actions?)\b", r"\bfighting techniques for performance\b",
    r"\bdanc(e|es|er|ers|ing)\b", r"choreograph\w*", r"\bcircus\b", r"rehears\w*", r"\battend castings\b",
    r"\bcasting budget\b", r"\bauditions?\b", r"\bflying (movements|systems?|harness\w*|equipment)\b",
    r"\bartist flying\b", r"\bprompt(ing)? (performers|book)\b", r"\bcue (a )?performance\b",
    r"\b(game|3d|digital|animated) characters?\b", r"\brelationships between characters\b", r"\bscripts?\b",
    r"screenplay\w*", r"screenwrit\w*", r"scriptwrit\w*", r"storytell\w*", r"\btell a story\b", r"\bnarratives?\b",
    r"\bstorylines?\b", r"creative writing", r"\bpoe(try|ms?|t|ts)\b", r"\blyric\w*", r"\bnovels?\b",
    r"\bfiction\b", r"literary", r"\bliterature\b", r"manuscripts?", r"\bbook (reviews?|fairs?|publishers?|"
    r"releases?|events?|design|covers?|illustrat\w*)\b", r"\bprompt book\b", r"\bproduction book\b",
    r"\bauthors?\b", r"\bgreeting cards?\b", r"\bheadlines\b", r"\bcaptions\b", r"\bspeeches\b",
    r"\bconversational tone\b", r"\bwriting style\b",
    r"cultural heritage", r"\bheritage\b", r"\bmuseums?\b", r"\bgaller(y|ies)\b", r"\bexhibitions?\b",
    r"\bcurat(or|ors|orial|e|ing|ion)\b", r"conservation[- ]restoration", r"\bconservators?\b",
    r"\bcultural (venues?|heritage|projects?|activit\w*|polic\w*|partners?|facilit\w*|history|events?|trends|"
    r"sector|institutions?|mediation|programm\w*)", r"\bcollections? (care|conservation|management|inventory)\b",
    r"\b(art|museum|collection) (collections?|objects?|database\w*|records|environment|director|visitors?)\b",
    r"\bdocument museum", r"\bartifacts?\b", r"\bartefacts?\b", r"\barchival objects\b", r"\bloan objects\b",
    r"\bvaluable objects\b", r"\bentertainment (industry|programs?)\b",
    r"\bevents? (management|planning|organi[sz]\w*)\b", r"\bfestivals?\b", r"\bcommunity arts?\b",
    r"\bcreative industr\w*",
    # marketing, communication, publishing
    r"\badvertis(ing|ement|ements)\b", r"\bads?\b", r"\badverts?\b", r"marketing", r"\bmarket research\b",
    r"\bbrand (identity|positioning|management|assets|strateg\w*|analysis|marketing|guidelines|awareness|image|"
    r"equity|design|platform)", r"\bbrand's\b", r"\bbranding\b", r"\btrademarks?\b",
    r"public relations", r"\bpr\b", r"\bpublic image\b", r"\bpromot(e|ion|ional|ing) (events?|brand|"
    r"artistic|art|music|cultural|the gallery|the conservatory)\b", r"\bproducts in advertisements\b",
    r"\bpromotional materials?\b",
    r"\bpublicity\b", r"\bcampaigns?\b", r"\bvisual merchandis\w*",
    r"\bcommunication (strateg|plan|campaign|design|sciences|polic)\w*",
    r"corporate communication\w*", r"\bcommunications? (sector|policies|plan|strategy|strategies)\b",
    r"\borgani[sz]ational communication\b", r"\bonline communication plan\b",
    r"copy ?writ\w*", r"\bcopy ?edit\w*", r"proofread\w*", r"journalis\w*", r"\bnews (stories|teams|flow|content|"
    r"analytics)\b", r"\bonline news\b", r"\bnewspaper house style\b", r"\bnewsletters?\b",
    r"\breport(ing)? live\b", r"\bpresent(er|ers|ing)? (during|on|a) (live|broadcast|show|programme)",
    r"\bpublishing\b", r"\bpublish (academic|books?|articles?|research|content|online)\b",
    r"\bpublished articles\b", r"\bpublishers?\b", r"editorial\w*", r"\beditors?\b", r"\bediting\b",
    r"\bedit (photographs|negatives|scripts|recorded sound|digital moving images|video|images?|raw footage|"
    r"manuscripts|texts?|articles|content|dictionary|greeting)\w*", r"\bpostediting\b", r"\brewrite articles\b",
    r"\bpress (release|relations|conference|kit)\w*", r"\bmedia\b", r"\bslogans?\b", r"\bbrochures?\b",
    r"\b(auction|product|exhibition|art) catalog(ue)?s?\b", r"\bcatalog(ue)? collection\b",
    r"\bprint(ing)?\b", r"\bprints\b", r"\bprinted (media|goods|matter|materials)\b", r"3d print\w*",
    r"additive manufactur\w*",
    r"\breprograph\w*", r"\bprepress\b", r"\bpre-press\b", r"\boffset\b", r"\bflexograph\w*", r"\bgravure\b",
    r"\bphotoengrav\w*", r"\bpress kit\b",
]

# Matched against the labels and the description: phrases that are creative in any context.
TEXT_KEYWORDS = [
    r"graphic design\w*", r"\banimation\b", r"motion graphics", r"cinematograph\w*",
    r"\bfilm (production|industry|directors?|crews?|sets?|shoots?|shooting|editing|editors?|studies|festivals?|"
    r"scripts?|footage|projects?|producers?)", r"motion pictures?", r"\bvideo (production|editing|footage|games?|"
    r"art|clips?|content)", r"\bphotographers?\b", r"\baudiovisual (production|works?|content|industry)",
    r"visual effects", r"\bdigital games?\b", r"\bvideo ?games?\b", r"\bgame engines?\b",
    r"\b3d (models?|modell?ing|animation|graphics|render\w*|characters?|environments?|textur\w*|print\w*|art\w*)\b",
    r"virtual reality", r"augmented reality", r"architectural (design|projects?|drawings?|plans?|heritage)",
    r"interior design\w*", r"landscape architecture", r"\bfashion (design\w*|industry|trends?|collections?|shows?)",
    r"\btextile design\w*", r"\bjewel(le)?ry (design|making|creation|pieces?)", r"\bpottery\b",
    r"\bmusical (works?|compositions?|performances?|scores?|pieces?|ideas?|genres?)",
    r"\bmusic (industry|production|recording|theory|genres?|composition|compositions)", r"performing arts",
    r"\bchoreograph\w*", r"scenograph\w*", r"\bcostume (design\w*|sketch\w*|department|fittings?)",
    r"\bstoryboards?\b", r"\bscreenplays?\b", r"\b(advertising|marketing|promotional) campaigns?",
    r"\bcopywriting\b", r"\bjournalism\b", r"\bpublishing (house|industry|rights|sector)", r"\btypography\b",
    r"\buser experience\b", r"\bcultural heritage\b", r"\bheritage (sites?|buildings?|objects?|collections?)",
    r"\bmuseums?\b", r"\bworks? of art\b", r"\bartworks?\b", r"\bart (history|collections?|galler(y|ies)|works?|"
    r"objects?|market|forms?|pieces?)\b", r"\bartistic (vision|concepts?|works?|practice)\b",
    r"\bconservation-restoration\b", r"\bconservators?\b", r"\b(art|museum|photographic|photography) exhibitions?\b",
]

# (A, B): a concept whose labels + description contain both patterns
CO_OCCURRING = [
    (r"\bconservation\b|\brestor\w*|\bpreserv\w*",
     r"\bart\b|artwork|heritage|museum|collection|antique|historic|monument|paintings?|sculpture|artefact|artifact|"
     r"musical instrument|cultural"),
    (r"\btextiles?\b", r"design|\bart\b|craft|pattern|fashion|trend|sketch|decorat|colou?r"),
    (r"\bfootwear\b|\bleather\b", r"design|sketch|fashion|trend|collection|pattern|prototype|craft"),
]

# --- 3. roots: every descendant of these concepts is a candidate
ROOTS = {  # URI suffix -> English preferred label (whitespace collapsed)
    "f058bf62-70d1-4f5e-be2a-8b26fac24a96": "design graphics",
    "966f2fd3-3de6-42da-b87c-da924c6d7960": "digital game creation systems",
    "f5b33464-4df9-4cf3-b468-b0a2d6b3ee85": "operate 3D computer graphics software",
    "50373f03-3e81-4d2e-99c6-d0f2ff42b138": "create sketches",
    "24301020-af48-4532-a1a6-e58567789436": "create artwork",
    "3812bbb9-4053-4685-aed5-af825d809501": "concretise artistic concept",
    "d3050294-0ab4-4377-a46f-80d894d72228": "coordinate artistic production",
    "2c33fda8-389d-4871-948d-46fc1eb0c161": "manage artistic project",
    "dbdafb2b-c6ab-451e-abe3-81bd73994394": "manage artistic career",
    "545f6585-58bc-4ca7-b1b4-1d33fb3664db": "direct community arts activities",
    "f3b841c9-17d1-4cc3-9e6b-36c17b0d15d3": "organize cultural events",
    "08fd2839-670c-4f16-8024-97437f2035ab": "plan marketing strategy",
    "d65e43ec-236d-4774-9ee6-f7f88e715bc4": "design wearing apparel",
    "33773667-4dec-4fb2-9b4c-0f08bbc25872": "design props",
    "b0f90c72-dcce-421d-b32e-371b9d25fd40": "analyze costume sketches",
}

# --- 4. veto on the English preferred label (applied to keyword and root candidates alike)
VETO = re.compile(
    r"\b(animals?|livestock|pigs|cattle|horses?|dogs?|dog's|veterinar\w*|dental|dentistry|teeth|patients?|"
    r"medical|clinical|surgical|pharmac\w*|orthop\w*|prosthe\w*|cosmetic\w*|nails|manicure|audiometr\w*|"
    r"audiolog\w*|vehicles?|cars?|trams?|aircraft|airports?|airside|aeronautical|ships?|vessels?|railways?|fleet|"
    r"urban transportation|pipelines?|oil|gas|mining|mines?|mineral|drilling|geolog\w*|weather|mapping|"
    r"firearms?|military|enemy|police|prisons?|forensic|forgery|food|beverages?|wine|winer\w*|tobacco|meat|"
    r"fish\w*|crops?|farm\w*|agricult\w*|forest\w*|trees?|soil|nuclear|circuits?|semiconductors?|electrical|"
    r"welding|machines?|machinery|manufactur\w*|production lines?|productivity|packing|laboratory|"
    r"hazardous|chemicals?|hydraulic|pneumatic|boilers?|furnaces?|rubber|plastics?|alumina|flooring|tiles|"
    r"cooktops|wire mesh|maritime|aviation|air transport|weapons? system\w*|funeral|gambling|betting|lottery|"
    r"casino|insurance|warehouse|logistics|healthcare|health care|nursing|therapy|therapies|therapeutic|"
    r"psycholog\w*|civil engineering|inheritance|cable|power distribution|outdoors|pastry|drinks?|cocktails?|"
    r"dessert\w*|cakes?|confectioner\w*|chocolate|canap\w*|garnish\w*|coffee|menus?|dish|dishes|cooking|"
    r"recipes?|sauces?|salad|translation works?|translated texts|displays|pump|upholster\w*|terrazzo|belts?|"
    r"political|fitness|sports?|health and safety|nutrition|ocular|youth work|financial products)\b"
    r"|^tend\b|^(operate|monitor|maintain|adjust|clean|repair|set up|feed) .*\b(press|presses|plant)\b",
    re.IGNORECASE,
)

# Concepts that the rules above let through although they are not creative work (English preferred label).
EXCLUDE = {
    "assemble cameras", "ban cameras", "browse, search and filter data, information and digital content",
    "evaluate data, information and digital content", "manage data, information and digital content",
    "type texts from audio sources", "get involved in the day-to-day operation of the company",
    "use personal organization software", "provide education on family life", "computer programming",
    "JavaScript", "Puppet", "consult credit score", "database management systems", "cued speech",
    "combine multiple fields of knowledge", "subject of coaching", "types of membranes",
}

# --- 5. concepts that must be in the subset: URI suffix -> expected English preferred label
#        (the main ESCO concept of each creative discipline the service must know)
MUST_INCLUDE = {
    "7fb699d9-182a-430e-b7a0-6d8ed05c284b": "graphic design",
    "97965983-0da4-4902-9daf-d5cd2693ef73": "3D modeling",
    "38509fa4-7c06-4a4b-9622-f521f03c37b8": "photography",
    "eee58e6d-4587-42f0-b9a0-fe055cfe2044": "develop animations",
    "1c00bc98-2713-4c62-82c5-6d86f2e6a4cb": "principles of animation",
    "5ce80f97-b385-4a41-9339-a6593d0709c1": "perform video editing",
    "493b20c2-c435-449a-896e-0af057c41fef": "film production process",
    "eb3aa3a8-6ece-441d-9041-15dcb0880e47": "cinematography",
    "80c042de-bc1a-4d78-b266-35bc80ba3093": "architectural design",
    "ac51e567-2261-48c7-b0cb-97c07fc60b6c": "develop a specific interior design",
    "d65e43ec-236d-4774-9ee6-f7f88e715bc4": "design wearing apparel",
    "2ac79be0-1f66-48da-84a6-2d294179927f": "create patterns for garments",
    "8542b62b-18b1-4c7f-9d4e-e717c10fbd72": "produce textile designs",
    "8ff314a8-57d7-4b8c-bf41-79f9572fedd0": "use digital illustration techniques",
    "325ef602-74c0-4944-9cc2-95c9af86857b": "use traditional illustration techniques",
    "07dd856d-6141-48a7-a228-918f88494812": "create prototype of user experience solutions",
    "fd33c66c-70c4-40e6-b87c-5495bd3bf26e": "design user interface",
    "c4b1f326-224a-420a-b8b3-814a8f13b6cb": "implement front-end website design",
    "f0f5bb34-71df-4715-9c9e-03567b76ec8f": "create website wireframe",
    "aba1f05b-f312-47d8-be71-7c574134de8f": "advertising techniques",
    "aa8b0abf-7ff0-4fbb-b85e-5364badbf214": "create advertisements",
    "de03f4fd-c147-4477-a048-7109e5ba2d6f": "marketing principles",
    "5303169c-75d6-4751-9136-a4b88343388c": "social media management",
    "64e09849-a7db-4d6b-a932-66264420eb97": "apply social media marketing",
    "ab5c3fac-238f-4006-a122-1114082a2f46": "supervise brand management",
    "754690ad-6207-4e1c-9df7-9a2b58afa587": "define brand identity",
    "5330b70e-16f5-43a7-a6de-18fd6a4bd063": "public relations",
    "7edc05fe-378b-4c9e-bbb2-e5a29c5a845f": "perform public relations",
    "ce592b28-4467-4908-b2e6-64bbe18da631": "perform copywriting",
    "c2218533-3e2a-4f50-b4fd-afde71dcf442": "edit recorded sound",
    "256df100-51cf-43b2-9a24-7277afa74707": "audio post-production",
    "3140d979-2d6a-4c10-add9-f7091103829f": "create concept of digital game",
    "a96dea4e-1c76-4808-8f18-3ce662ff82cb": "specify digital game scenes",
    "966f2fd3-3de6-42da-b87c-da924c6d7960": "digital game creation systems",
    "a2b5dcf3-5b6a-453d-876c-cff540c0faf1": "CAD software",
    "b34e2ba1-9080-48c9-9b42-ee9192a4d3f1": "use CAD software",
    "f5b33464-4df9-4cf3-b468-b0a2d6b3ee85": "operate 3D computer graphics software",
    "e8171178-9a60-40a6-ad3b-510e10cfebad": "render 3D images",
    "8e207517-34bf-4711-a0aa-c8a557ab692f": "create special effects",
    "3cc1ee94-ab2c-4f35-8171-3cf4b5b664e4": "digital compositing",
    "8afe68ff-b261-4fa8-ab25-bb30b0e5c292": "motion graphics",
    "2afb2b59-c9a3-4cf3-b1dd-1a2fad51e583": "3D printing process",
    "43117c55-4b23-4f9b-9a37-6d36e2c28d2b": "ceramic ware",
    "7ffe5ddd-abf1-4047-91e9-37c4e9f43d9c": "create ceramic objects",
    "44fea655-139f-445d-aae5-8474fc86307b": "create jewelry",
    "c51fef82-590a-4077-b210-2b5fdd53f68d": "develop jewelry designs",
    "397c14d5-42e0-4c85-8376-4c70b5a90bcf": "conservation techniques",
    "2065d166-4d1a-4f0b-a43b-e8a15d366400": "specialize in conservation-restoration of specific types of objects",
    "a79f7982-36b8-44e7-b19a-9b7366ca2e87": "supervise projects for the conservation of heritage buildings",
    "080a3bf6-c8e8-481e-b97e-8fbc964ebab7": "typography",
    "4c598891-db23-4b7c-9b39-233ba8eaf848": "landscape architecture",
}

# ESCO labels left out by hand, with the reason.
DROP_LABELS = {
    ("en", "Fotografix"): "a graphics program whose name stems to 'fotografi', the usual misspelling of Fotografie",
    ("fr", "montage"): "print stripping's French label; in this cluster 'montage' is film and video editing (our label)",
}

CONCEPT_HEADER = ["concept", "kind", "broader", "pref_en"]
LABEL_HEADER = ["concept", "lang", "kind", "label"]
LANGS = (("en", "preferredLabel_en_us", "altLabels_en_v111"), ("fr", "preferredLabel_fr", "altLabels_fr"))
_SPELLED = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}


class DataError(Exception):
    pass


def fold(text):
    """The matcher's folding (src/domain/fold.rs): compatibility decomposition, marks stripped,
    lower-cased, a few letters spelled out, every run of other characters than letters and digits
    turned into one space, trimmed."""
    out = []
    pending_space = False
    for c in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(c):
            continue
        if c.isalnum():
            if pending_space and out:
                out.append(" ")
            pending_space = False
            for lower in c.lower():
                out.append(_SPELLED.get(lower, lower))
        else:
            pending_space = True
    return "".join(out)


def clean(label):
    return " ".join(label.split())


def find_input(data_dir, name):
    for candidate in (data_dir / name, data_dir / "esco" / name):
        if candidate.is_file():
            return candidate
    raise DataError(f"{name} not found in {data_dir} or {data_dir / 'esco'}")


def read_skills(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    skills = {}
    for row in rows:
        uri = row["conceptUri"].strip()
        if not uri.startswith(ESCO):
            raise DataError(f"unexpected concept URI {uri!r}")
        if uri in skills:
            raise DataError(f"concept listed twice: {uri}")
        skills[uri] = row
    return skills


def read_broader(path):
    parents = defaultdict(set)
    children = defaultdict(set)
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            parents[row["conceptUri"]].add(row["broaderUri"])
            children[row["broaderUri"]].add(row["conceptUri"])
    return parents, children


def en_labels(row):
    labels = [clean(row["preferredLabel_en_us"])]
    labels += [clean(x) for x in row["altLabels_en_v111"].split("\n")]
    return [x for x in labels if x]


def blank_false_friends(text, false_friends):
    for pattern in false_friends:
        text = pattern.sub(" ", text)
    return text


def matches(row, false_friends, label_keywords, text_keywords, pairs):
    """The first rule that makes this concept a keyword candidate, or None."""
    labels = blank_false_friends("\n".join(en_labels(row)), false_friends)
    text = labels + "\n" + blank_false_friends(clean(row["description_en_us"]), false_friends)
    for k in label_keywords:
        if k.search(labels):
            return "label: " + k.pattern
    for k in text_keywords:
        if k.search(text):
            return "text: " + k.pattern
    for a, b in pairs:
        if a.search(text) and b.search(text):
            return f"pair: {a.pattern} + {b.pattern}"
    return None


def compile_rules():
    false_friends = [re.compile(p, re.IGNORECASE) for p in FALSE_FRIENDS]
    label_keywords = [re.compile(p, re.IGNORECASE) for p in LABEL_KEYWORDS]
    text_keywords = [re.compile(p, re.IGNORECASE) for p in TEXT_KEYWORDS]
    pairs = [(re.compile(a, re.IGNORECASE), re.compile(b, re.IGNORECASE)) for a, b in CO_OCCURRING]
    return false_friends, label_keywords, text_keywords, pairs


def descendants(roots, children):
    found = set()
    stack = list(roots)
    while stack:
        uri = stack.pop()
        if uri in found:
            continue
        found.add(uri)
        stack.extend(children.get(uri, ()))
    return found


def select(skills, children):
    """{uri: reason} of the subset, and the sorted list of vetoed candidates."""
    rules = compile_rules()
    reasons = {}
    for uri, row in skills.items():
        hit = matches(row, *rules)
        if hit is not None:
            reasons[uri] = "keyword"

    roots = []
    for suffix, label in ROOTS.items():
        uri = ESCO + suffix
        if uri not in skills or clean(skills[uri]["preferredLabel_en_us"]) != label:
            raise DataError(f"root {suffix} ({label}) is not in the skills file under that label")
        roots.append(uri)
    for uri in descendants(roots, children):
        if uri in skills:
            reasons[uri] = "keyword+root" if uri in reasons else "root"

    must = {ESCO + s for s in MUST_INCLUDE}
    vetoed = sorted(u for u in reasons if u not in must and (VETO.search(clean(skills[u]["preferredLabel_en_us"]))
                                                          or clean(skills[u]["preferredLabel_en_us"]) in EXCLUDE))
    for uri in vetoed:
        del reasons[uri]

    for suffix, expected in MUST_INCLUDE.items():
        uri = ESCO + suffix
        if uri not in skills:
            raise DataError(f"required concept {suffix} ({expected}) is not in the skills file")
        actual = clean(skills[uri]["preferredLabel_en_us"])
        if actual != expected:
            raise DataError(f"required concept {suffix}: expected {expected!r}, the data says {actual!r}")
        reasons.setdefault(uri, "listed")
    return reasons, vetoed


DOER_ENDINGS = ("er", "or", "ist", "graf", "ant", "ent", "ekt", "eur", "og", "ied")
FEMININE_ENDINGS = (("euse", "eur"), ("trice", "teur"), ("iere", "ier"), ("ienne", "ien"))
PLURAL_ENDINGS = (
    ("ungen", "ung"), ("iounen", "ioun"), ("ionen", "ion"), ("eien", "ei"), ("heiten", "heit"), ("keiten", "keit"),
    ("schaften", "schaft"), ("euren", "eur"), ("uren", "ur"), ("iken", "ik"), ("fien", "fi"), ("phien", "phi"),
    ("logien", "logi"), ("tegien", "tegi"), ("nahmen", "nahm"), ("oren", "or"), ("isten", "ist"), ("grafen", "graf"),
    ("anten", "ant"), ("enten", "ent"), ("agogen", "agog"),
)


def stem(word):
    """The matcher's light stemming (src/matching/vocabulary/mod.rs): the feminine of a trade's name to its masculine
    (German and Luxembourgish "-in", "-innen" after a doer's ending; French "-euse", "-trice", "-iere", "-ienne", in
    the singular or plural), German and Luxembourgish plurals no English or French word ends like ("-ungen",
    "-ionen", "-iounen", "-eien", "-heiten", "-keiten", "-schaften", "-uren", "-iken", "-fien", "-oren", "-isten",
    "-enten"... as PLURAL_ENDINGS lists them) to their singular, else English, French and
    German plural endings, then a final silent e ("glazes" and "glaze", "maquettes" and "maquette"), and a final
    -y, -ie or -ies as -i ("studies" and "study")."""
    if len(word) <= 3 or not word.isascii():
        return word
    for ending in ("innen", "in"):
        if word.endswith(ending):
            base = word[: -len(ending)]
            if len(base) >= 4 and base.endswith(DOER_ENDINGS):
                return base
            break
    for plural, singular in PLURAL_ENDINGS:
        if word.endswith(plural) and len(word) - len(plural) >= 3:
            return word[: len(word) - len(plural) + len(singular)]
    singular = word[:-1] if word.endswith("s") else word
    for feminine, masculine in FEMININE_ENDINGS:
        if singular.endswith(feminine) and len(singular) - len(feminine) >= 3:
            return singular[: -len(feminine)] + masculine
    if word.endswith("ies") and len(word) - 3 >= 3:
        return word[:-3] + "i"
    base = word
    for suffix in ("es", "s", "x"):
        if (word.endswith(suffix) and len(word) - len(suffix) >= 3
                and not word.endswith("ss") and not word.endswith("us") and not word.endswith("is")):
            base = word[: -len(suffix)]
            break
    if base.endswith("e") and len(base) - 1 >= 3:
        base = base[:-1]
    if base.endswith("y") and len(base) - 1 >= 3:
        base = base[:-1] + "i"
    return base


def match_key(text):
    """The matcher's second lookup key: folded, each word stemmed, words sorted and deduplicated."""
    return " ".join(sorted({stem(w) for w in fold(text).split(" ") if w}))


def read_own_labels(path):
    """{match key: concept} from our own label file, if present."""
    own = {}
    if path is None or not path.is_file():
        return own
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != LABEL_HEADER:
            raise DataError(f"{path}: header must be {','.join(LABEL_HEADER)}")
        for row in reader:
            own.setdefault(match_key(row["label"]), row["concept"])
    return own


def build_labels(skills, subset, own):
    rows = []          # [concept, lang, kind, label]
    seen = set()       # (concept, lang, folded)
    duplicates = 0
    for uri in subset:
        row = skills[uri]
        for lang, pref_col, alt_col in LANGS:
            candidates = [("pref", clean(row[pref_col]))]
            candidates += [("alt", clean(x)) for x in row[alt_col].split("\n")]
            for kind, label in candidates:
                key = fold(label)
                if not key or (lang, label) in DROP_LABELS:
                    continue
                if (uri, lang, key) in seen:
                    duplicates += 1
                    continue
                seen.add((uri, lang, key))
                rows.append([uri, lang, kind, label])

    # Clashes are judged on the matcher's keys, in all languages at once: its indexes do not separate languages.
    owners = defaultdict(lambda: {"pref": set(), "alt": set()})
    same_pref = defaultdict(set)  # (lang, folded preferred label) -> concepts
    for uri, lang, kind, label in rows:
        owners[match_key(label)][kind].add(uri)
        if kind == "pref":
            same_pref[(lang, fold(label))].add(uri)

    dropped = []
    kept = []
    for uri, lang, kind, label in rows:
        key = match_key(label)
        own_owner = own.get(key)
        prefs = owners[key]["pref"]
        alts = owners[key]["alt"]
        if kind == "pref" and len(same_pref[(lang, fold(label))]) > 1:
            sharing = len(same_pref[(lang, fold(label))])
            dropped.append((lang, label, uri, "same-pref", f"the preferred label of {sharing} concepts"))
        elif kind == "alt" and own_owner is not None and own_owner != uri:
            dropped.append((lang, label, uri, "own", f"our own label for {own_owner}"))
        elif kind == "alt" and prefs and uri not in prefs:
            dropped.append((lang, label, uri, "pref", "the preferred label of " + " ".join(sorted(prefs))))
        elif kind == "alt" and not prefs and len(alts) > 1:
            dropped.append((lang, label, uri, "ambiguous", f"an alternative label of {len(alts)} concepts"))
        else:
            kept.append([uri, lang, kind, label])
    pref_clashes = sorted((k, sorted(v["pref"])) for k, v in owners.items() if len(v["pref"]) > 1)
    return kept, dropped, duplicates, pref_clashes


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv=None):
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder with the ESCO exports (or with an esco/ folder)")
    parser.add_argument("-o", "--out-dir", type=Path, default=here.parent / "vocabulary")
    parser.add_argument("--own", type=Path, default=None, help="own label file (default OUT_DIR/own_labels.csv)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every dropped label")
    args = parser.parse_args(argv)

    try:
        skills = read_skills(find_input(args.data_dir, "skills_multilingual.csv"))
        parents, children = read_broader(find_input(args.data_dir, "broader_relations_skill_pillar.csv"))
        reasons, vetoed = select(skills, children)
        subset = sorted(reasons)
        own = read_own_labels(args.own if args.own else args.out_dir / "own_labels.csv")
        labels, dropped, duplicates, pref_clashes = build_labels(skills, subset, own)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    members = set(subset)
    concept_rows = []
    for uri in subset:
        row = skills[uri]
        broader = " ".join(sorted(p for p in parents.get(uri, ()) if p in members))
        concept_rows.append([uri, "skill", broader, clean(row["preferredLabel_en_us"])])
    labels.sort(key=lambda r: (r[0], r[1], r[2] != "pref", r[3]))

    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(args.out_dir / "esco_concepts.csv", CONCEPT_HEADER, concept_rows)
    write_csv(args.out_dir / "esco_labels.csv", LABEL_HEADER, labels)

    by_reason = defaultdict(int)
    for r in reasons.values():
        by_reason[r] += 1
    print(f"ESCO skills read: {len(skills)}")
    print(f"subset: {len(subset)} concepts ({by_reason['keyword'] + by_reason['keyword+root']} by keyword, "
          f"{by_reason['keyword+root'] + by_reason['root']} in or under the {len(ROOTS)} roots, "
          f"{by_reason['root']} by descent only, {by_reason['listed']} only as listed); "
          f"{len(vetoed)} candidates vetoed")
    print(f"  knowledge: {sum(1 for u in subset if 'knowledge' in skills[u]['skillType'])}, "
          f"skill/competence: {sum(1 for u in subset if 'knowledge' not in skills[u]['skillType'])}")
    print(f"  with a broader concept in the subset: {sum(1 for r in concept_rows if r[2])}")
    for lang, _, _ in LANGS:
        n_pref = sum(1 for r in labels if r[1] == lang and r[2] == "pref")
        n_alt = sum(1 for r in labels if r[1] == lang and r[2] == "alt")
        print(f"labels {lang}: {n_pref + n_alt} ({n_pref} preferred, {n_alt} alternative)")
    print(f"labels dropped as repeats within a concept (after folding): {duplicates}")
    print(f"labels dropped as clashes between concepts: {len(dropped)}")
    reasons_count = defaultdict(int)
    for *_, code, _ in dropped:
        reasons_count[code] += 1
    for code, text in (("own", "alternative labels that give way to our own labels"),
                       ("pref", "alternative labels that are another concept's preferred label"),
                       ("ambiguous", "alternative labels of several concepts (ambiguous)"),
                       ("same-pref", "preferred labels shared by several concepts in one language")):
        print(f"  {text}: {reasons_count[code]}")
    print(f"labels left out by hand (DROP_LABELS): {len(DROP_LABELS)}")
    print(f"preferred labels of different concepts that share a match key (kept, the exact lookup tells them apart): "
          f"{len(pref_clashes)}")
    for key, uris in pref_clashes:
        print(f"  {key!r}: " + "; ".join(f"{clean(skills[u]['preferredLabel_en_us'])}" for u in uris))
    for lang, label, uri, code, why in dropped:
        if args.verbose or code == "own":
            print(f"  dropped {lang} {label!r} from {uri.rsplit('/', 1)[-1]} "
                  f"({clean(skills[uri]['preferredLabel_en_us'])}): {why}")
    print(f"wrote {args.out_dir / 'esco_concepts.csv'} and {args.out_dir / 'esco_labels.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
