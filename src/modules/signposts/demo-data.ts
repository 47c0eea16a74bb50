// A made-up multi-agency picture of Kingsmere's residents for demonstrations and measuring the linkage: households
// at addresses in the borough, each resident known to some agencies, every agency's extract carrying the slips
// real extracts carry (typos, nicknames, married names, old addresses, partial dates of birth). The true person
// behind every record is kept aside so the linkage can be scored; it is never loaded into the platform.
import { defaultNicknames, jaroWinkler, nhsCheckDigit, phoneticKey } from './linkage/index.js';
import { seededRandom } from './linkage/model.js';
import { shareGroup } from './linkage/nicknames.js';

export interface DemoExtract {
  /** The source's code in the register. */
  source: string;
  /** Rows keyed by that source's column names; a record with several events has a row for each. */
  rows: Record<string, string>[];
}

export interface DemoDataset {
  extracts: DemoExtract[];
  /** Ground truth: `${source}/${recordId}` to the true person id (never loaded into the platform's tables). */
  truth: Map<string, string>;
  /** Pairs of true person ids who are twins (same date of birth, surname and address). */
  twins: [string, string][];
  people: number;
}

export interface DemoOptions {
  /** Residents to create at least (50,000 by default); whole households are added until there are enough. */
  people?: number;
  seed?: number;
  /** The extracts' "now" (1 December 2026 by default): ages and event dates count back from it. */
  today?: Date;
}

type Random = () => number;
type Heritage = 'british' | 'southAsian' | 'black' | 'eastEuropean' | 'other';
type Gender = 'F' | 'M';

// Name lists, most common first; picks are skewed towards the front.
const words = (text: string): string[] => text.trim().split(/\s+/);

const BRITISH_MALE_OLDER = words(`John David Michael Peter Robert William James Brian Alan Anthony Kenneth Raymond Derek Keith Roy Ronald Dennis Colin
  Terence Geoffrey Barry Leslie Harold Frank Stanley Arthur George Albert Ernest Norman Eric Frederick Thomas Charles Edward Richard Stephen Malcolm
  Graham Trevor Roger Philip Gordon Donald Walter Leonard Alfred Victor Clifford Douglas Bernard Herbert Cyril Ian Gerald Maurice Patrick Francis`);
const BRITISH_FEMALE_OLDER = words(`Margaret Patricia Mary Susan Jean Barbara Linda Christine Elizabeth Sandra Carol Janet Pauline Brenda Maureen Valerie
  Sheila Joan Dorothy Doreen Irene Kathleen Eileen Joyce Sylvia Shirley Marjorie Beryl Gillian Ann Jennifer Wendy Hazel Rita Edna Audrey Vera Gladys
  Lilian Marion Elaine Judith Rosemary June Florence Betty Winifred Iris Heather Yvonne Lynne Diane`);
const BRITISH_MALE_MIDDLE = words(`David Paul Mark Andrew Michael Richard Daniel Christopher James Stephen Matthew Robert Lee Darren Craig Jason Wayne Gary
  Neil Simon Adam Thomas Jonathan Carl Dean Martin Scott Ian Anthony Peter Benjamin Jamie Ryan Luke Nicholas Shaun Kevin Lewis Ashley Jordan Liam
  Nathan Gareth Dale Kieran Karl Russell Philip Graham Timothy Alexander Joseph Samuel Sean`);
const BRITISH_FEMALE_MIDDLE = words(`Sarah Emma Claire Nicola Lisa Michelle Rachel Laura Louise Kelly Joanne Helen Rebecca Donna Amanda Victoria Jennifer
  Samantha Stephanie Gemma Natalie Hayley Kerry Lindsey Katie Charlotte Jessica Amy Hannah Lauren Danielle Leanne Zoe Julie Tracey Karen Alison
  Angela Deborah Catherine Elizabeth Lucy Sophie Jade Stacey Kirsty Jodie Leah Melissa Sharon Jane Katherine Alexandra Natasha`);
const BRITISH_MALE_YOUNG = words(`Oliver Jack Harry George Noah Charlie Jacob Alfie Freddie Oscar Leo Thomas Arthur Archie Joshua James William Henry Isaac
  Theo Max Logan Ethan Lucas Mason Riley Harrison Teddy Finley Tommy Joseph Sebastian Dylan Alexander Edward Reggie Jude Albie Louie Frankie Ronnie
  Toby Elliot Kai Jenson Bobby Hugo Rory Ellis Stanley Ezra Caleb Jaxon Harvey Tyler Callum Kyle Connor Jayden`);
const BRITISH_FEMALE_YOUNG = words(`Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella Poppy Evie Elsie
  Charlotte Evelyn Sienna Daisy Phoebe Sophie Millie Ruby Harper Matilda Alice Esme Maisie Chloe Jessica Emilia Eva Isabelle Erin Holly Layla Lola
  Hallie Mila Darcie Bonnie Thea Orla Imogen Scarlett Megan Niamh Abigail Lacey Paige Amber Bethany Molly`);
const BRITISH_SURNAMES = words(`Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright Walker White Edwards
  Hughes Green Hall Lewis Harris Clarke Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James
  Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox
  Richards Marshall Anderson Simpson Ellis Adams Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Hunt Campbell Matthews Owen Palmer Holmes
  Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Fletcher Walsh Gibson Howard Andrews
  Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Dawson Ball Burton O'Brien Watts
  Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn
  Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Dean Lane Cooke Bates
  Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates
  Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston
  Gordon Doyle Wallace Jordan Hutchinson Rowe Burke Pritchard Gilbert Willis Higgins Read Miles Stevenson Hammond Arnold Buckley Walters Hewitt
  Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert Blake Lynch Goodwin Barton Woodward Cunningham Quinn Barnett Baxter Clayton
  Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French Jarvis Gibbs
  Ferguson Hayward Carroll Douglas Dickinson Todd Barlow Peters Lucas Knowles Hartley Simmons Morton Field Morrison Norris Townsend Preston Hancock
  Thornton Baldwin Burrows Briggs Storey Pugh Brennan Hargreaves Ashworth Haworth Sutcliffe Butterworth Greenhalgh Entwistle Ormerod Crompton
  Kershaw Schofield Whittaker Pilkington Fairclough Halliwell Openshaw Duckworth Rothwell Leach Horrocks Tattersall`);

const SOUTH_ASIAN_MALE = words(`Mohammed Muhammad Ali Ahmed Hassan Hussain Ibrahim Omar Usman Bilal Hamza Zain Ayaan Rayyan Yusuf Imran Tariq Asif Faisal
  Kamran Nadeem Shahid Sajid Zubair Arjun Rohan Aarav Vihaan Rahul Amit Sanjay Vijay Harpreet Gurpreet Jaspreet Manpreet Rajesh Sunil Anil Ravi Kiran
  Nikhil Dev Aryan Krish Sahil Ishaan Abdul Rizwan Irfan Junaid Shoaib Waqas Naveed Ayaz Idris Musa Haris`);
const SOUTH_ASIAN_FEMALE = words(`Fatima Aisha Maryam Zainab Ayesha Khadija Amina Hafsa Safa Sana Noor Hira Iqra Mehwish Nadia Saima Shazia Farah Samina
  Rukhsana Nasreen Parveen Shabana Yasmin Amira Anaya Inaya Zara Aleena Eshal Priya Anjali Pooja Neha Sunita Kavita Asha Deepa Simran Harleen Gurleen
  Jasleen Navneet Meena Rekha Sita Riya Diya Aditi Ananya Ishani Manisha Sadia Tahira Rabia`);
const SOUTH_ASIAN_SURNAMES = words(`Khan Ahmed Ali Hussain Patel Shah Akhtar Iqbal Mahmood Singh Rashid Malik Butt Aslam Anwar Hassan Javed Mirza Qureshi
  Raza Siddiqui Sheikh Kaur Chaudhry Bashir Rehman Saleem Nawaz Riaz Yousaf Zaman Sharma Gill Sandhu Sidhu Dhillon Mistry Kumar Parmar Chauhan Desai
  Joshi Mehta Gupta Rana Bains Johal Uddin Miah Rahman Islam Choudhury Hoque Begum`);

const BLACK_MALE = words(`Daniel Samuel David Emmanuel Joshua Michael Kwame Kofi Chidi Chinedu Emeka Tunde Femi Segun Olumide Oluwaseun Ayo Kelechi
  Obinna Ikenna Tendai Tafadzwa Jamal Marcus Tyrone Leon Andre Jerome Winston Delroy Clive Desmond Errol Lloyd Ade Babajide Yaw Kwabena Abdi
  Jabari Malachi Elijah Isaiah Micah Josiah Nathaniel Zion Tobi`);
const BLACK_FEMALE = words(`Grace Blessing Precious Esther Ruth Abigail Chioma Ngozi Adaeze Amara Chiamaka Funmilayo Folake Yetunde Bukola Ama Akosua
  Abena Efua Adwoa Nia Imani Aaliyah Jade Shanice Tanisha Keisha Marcia Beverley Paulette Claudette Hyacinth Norma Sonia Tamika Simone Naomi Hope
  Faith Joy Patience Mercy Comfort Halima Hodan Fartun Amal Sagal Zahra Temi Tolu Kemi`);
const BLACK_SURNAMES = words(`Okafor Campbell Brown Williams Mensah Okonkwo Adeyemi Thomas Francis Owusu Adebayo Grant Clarke Asante Boateng James
  Samuels Osei Appiah Edwards Reid Morgan Bailey Mohamed Abdi Oluwole Ogunleye Mwangi Kamau Moyo Ncube Dube Banda Phiri Farah Warsame Henry
  Anderson Richards Lewis Robinson Gordon Stewart Ellis Hinds Beckford Forbes Gayle Bennett Blake`);

const EAST_EUROPEAN_MALE = words(`Jakub Kacper Szymon Filip Mateusz Piotr Tomasz Krzysztof Pawel Marcin Michal Lukasz Jan Wojciech Andrzej Marek Dawid
  Bartosz Kamil Oskar Antoni Mikolaj Igor Dominik Patryk Darius Andrei Mihai Ion Alexandru Stefan Bogdan Vasile Cristian Florin Gabriel Adrian
  Marius Tomas Lukas Mantas Jonas Dmitri Sergei Oleksandr Mykola Yuri Vladimir Pavel Nikolai`);
const EAST_EUROPEAN_FEMALE = words(`Zofia Julia Zuzanna Maja Hanna Lena Alicja Maria Oliwia Natalia Aleksandra Wiktoria Katarzyna Agnieszka Malgorzata
  Anna Magdalena Joanna Ewa Monika Karolina Marta Dorota Paulina Justyna Agata Ioana Elena Andreea Ana Mihaela Alina Cristina Gabriela Daniela
  Ruta Egle Ieva Irina Olga Svetlana Tatiana Yulia Oksana Kateryna Daria Sofia Milena`);
const EAST_EUROPEAN_SURNAMES = words(`Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Lewandowski Zielinski Szymanski Wozniak Dabrowski Kozlowski
  Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski Nowakowski Pawlowski Michalski Adamczyk Dudek Zajac Wieczorek Jablonski Krol Majewski
  Olszewski Popescu Ionescu Popa Radu Dumitru Stan Stoica Gheorghe Matei Ciobanu Rusu Kazlauskas Jankauskas Petrauskas Ivanov Petrov Smirnov
  Kovalenko Shevchenko Bondarenko Tkachenko Horvath Novak`);

const OTHER_MALE = words(`Wei Jun Hao Ming Jian Chen Kevin Ahmad Khalid Mustafa Yasin Karim Samir Mehmet Emre Hasan Burak Kerem Minh Tuan Duc Hieu
  Carlos Diego Mateo Luca Marco Giovanni Pedro Rafael Tiago Joao Kenji Hiroshi Reza Dariusz Amir Farid Jamil Nabil Rami Walid`);
const OTHER_FEMALE = words(`Mei Xin Ying Li Hui Jing Layla Mariam Noura Rania Huda Dalia Elif Zeynep Ayse Melek Linh Thao Anh Mai Sofia Lucia Giulia
  Chiara Beatriz Ines Camila Valentina Yuki Sakura Leila Shirin Nasrin Samira Dina Rana Lina`);
const OTHER_SURNAMES = words(`Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Lin Nguyen Tran Pham Le Haddad Nasser Saleh Mansour Abbas Yilmaz Kaya Demir
  Sahin Celik Ozturk Aydin Arslan Dogan Rossi Russo Ferrari Silva Santos Costa Oliveira Garcia Rodriguez Martinez Tanaka Sato Karimi Hosseini
  Rahimi Al-Hashimi Al-Sayed`);

interface NamePool {
  maleOlder: string[];
  femaleOlder: string[];
  maleMiddle: string[];
  femaleMiddle: string[];
  maleYoung: string[];
  femaleYoung: string[];
  surnames: string[];
}

const POOLS: Record<Heritage, NamePool> = {
  british: {
    maleOlder: BRITISH_MALE_OLDER,
    femaleOlder: BRITISH_FEMALE_OLDER,
    maleMiddle: BRITISH_MALE_MIDDLE,
    femaleMiddle: BRITISH_FEMALE_MIDDLE,
    maleYoung: BRITISH_MALE_YOUNG,
    femaleYoung: BRITISH_FEMALE_YOUNG,
    surnames: BRITISH_SURNAMES,
  },
  southAsian: single(SOUTH_ASIAN_MALE, SOUTH_ASIAN_FEMALE, SOUTH_ASIAN_SURNAMES),
  black: single(BLACK_MALE, BLACK_FEMALE, BLACK_SURNAMES),
  eastEuropean: single(EAST_EUROPEAN_MALE, EAST_EUROPEAN_FEMALE, EAST_EUROPEAN_SURNAMES),
  other: single(OTHER_MALE, OTHER_FEMALE, OTHER_SURNAMES),
};

function single(male: string[], female: string[], surnames: string[]): NamePool {
  return { maleOlder: male, femaleOlder: female, maleMiddle: male, femaleMiddle: female, maleYoung: male, femaleYoung: female, surnames };
}

const HERITAGES: [Heritage, number][] = [
  ['british', 0.74],
  ['southAsian', 0.11],
  ['black', 0.06],
  ['eastEuropean', 0.05],
  ['other', 0.04],
];

/** Informal forms people give or agencies record, by formal forename (all in the linkage's nickname tables). */
const INFORMAL: Record<string, string[]> = {
  William: ['Bill', 'Will', 'Billy'],
  Elizabeth: ['Liz', 'Beth', 'Lizzie'],
  Mohammed: ['Mo', 'Muhammad', 'Mohammad'],
  Muhammad: ['Mohammed', 'Mo'],
  Katherine: ['Kate', 'Katie', 'Kath'],
  Catherine: ['Cathy', 'Kate', 'Cath'],
  Alfred: ['Alf', 'Alfie'],
  Robert: ['Rob', 'Bob', 'Robbie'],
  Richard: ['Rich', 'Rick', 'Richie'],
  Michael: ['Mike', 'Mick'],
  Christopher: ['Chris'],
  Christine: ['Chris', 'Chrissie'],
  Daniel: ['Dan', 'Danny'],
  David: ['Dave'],
  Andrew: ['Andy', 'Drew'],
  Anthony: ['Tony'],
  Stephen: ['Steve'],
  Matthew: ['Matt'],
  Thomas: ['Tom', 'Tommy'],
  James: ['Jim', 'Jamie', 'Jimmy'],
  John: ['Jack', 'Johnny'],
  Jonathan: ['Jon', 'Jonny'],
  Joseph: ['Joe', 'Joey'],
  Samuel: ['Sam', 'Sammy'],
  Samantha: ['Sam', 'Sammie'],
  Benjamin: ['Ben'],
  Nicholas: ['Nick'],
  Alexander: ['Alex'],
  Alexandra: ['Alex', 'Lexi'],
  Jennifer: ['Jen', 'Jenny'],
  Jessica: ['Jess'],
  Rebecca: ['Becky', 'Becca'],
  Victoria: ['Vicky', 'Tori'],
  Margaret: ['Maggie', 'Peggy', 'Meg'],
  Patricia: ['Pat', 'Trish'],
  Susan: ['Sue'],
  Deborah: ['Debbie', 'Deb'],
  Kenneth: ['Ken'],
  Edward: ['Ed', 'Eddie', 'Ted'],
  Frederick: ['Fred', 'Freddie'],
  Charles: ['Charlie'],
  Charlotte: ['Lottie', 'Charlie'],
  Abigail: ['Abbie', 'Abby'],
  Isabella: ['Izzy', 'Bella'],
  Isabelle: ['Izzy', 'Bella'],
  Olivia: ['Liv'],
  Eleanor: ['Ellie', 'Nell'],
  Joshua: ['Josh'],
  Oliver: ['Ollie'],
  Timothy: ['Tim'],
  Peter: ['Pete'],
  Philip: ['Phil'],
  Nathaniel: ['Nat'],
  Gareth: ['Gaz'],
  Leonard: ['Len'],
  Terence: ['Terry'],
  Raymond: ['Ray'],
  Ronald: ['Ron', 'Ronnie'],
  Donald: ['Don'],
  Douglas: ['Doug'],
  Gerald: ['Gerry'],
  Bernard: ['Bernie'],
  Stanley: ['Stan'],
  Albert: ['Bert'],
  Dorothy: ['Dot', 'Dottie'],
  Kathleen: ['Kath', 'Kathy'],
  Barbara: ['Babs'],
  Valerie: ['Val'],
  Gillian: ['Gill'],
  Jacob: ['Jake'],
  Aleksandra: ['Ola'],
  Katarzyna: ['Kasia'],
  Malgorzata: ['Gosia'],
  Wojciech: ['Wojtek'],
  Tomasz: ['Tomek'],
  Jakub: ['Kuba'],
  Oleksandr: ['Sasha'],
  Yusuf: ['Yousef'],
  Ahmed: ['Ahmad'],
  Hussain: ['Hussein'],
  Aisha: ['Ayesha'],
  Fatima: ['Fatimah'],
  Babajide: ['Jide'],
  Oluwaseun: ['Seun'],
  Funmilayo: ['Funmi'],
  Emmanuel: ['Manny'],
};

const STREET_STEMS = words(`Albert Victoria Church Mill Chapel Station Park Oak Ash Beech Birch Elm Holly Rowan Willow Hawthorn Heather Moor Fell Brook
  Bridge Canal Wharf Foundry Weavers Spinners Cotton Loom Queen King Princess Duke George Grosvenor Cavendish Stanley Lancaster Windsor Clarence
  Balmoral Carlton Regent Melbourne Wellington Nelson Peel Gladstone Cobden School Vicarage Rectory Hall Manor Grange Farm Orchard Meadow Field
  Croft Green Common Heath Quarry Kiln Tannery Brewery Granary Forge Smithy Dyers Fullers Bleachers Colliers Ropewalk Sunnyside Hillside
  Brookside Waterside Riverside Clough Dale Edge Knoll Pike Crag Scar Ridge Hollow Spring Well Fountain Cross Tithe Glebe Priory Abbey Chantry
  Beacon Lantern Hollinbrook Daneside Fellgate Ashworth Stonecliffe Brackenfield Millbrook Thornley Crowhill`);
const STREET_SUFFIXES = words('Road Street Lane Avenue Close Drive Way Grove Crescent Terrace Place Gardens Walk Court Rise View Mews Fold Brow');
/** Short forms some agencies' systems use, which the linkage expands again. */
const STREET_SHORT: Record<string, string> = {
  Road: 'Rd',
  Street: 'St',
  Lane: 'Ln',
  Avenue: 'Ave',
  Close: 'Cl',
  Drive: 'Dr',
  Crescent: 'Cres',
  Terrace: 'Tce',
};
const POSTCODE_UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

interface Address {
  number: string;
  street: string;
  postcode: string;
  uprn: string;
}

interface DateParts {
  y: number;
  m: number;
  d: number;
}

interface Person {
  id: string;
  forename: string;
  middle: string;
  surname: string;
  /** Surname at birth for those who changed theirs on marriage. */
  previousSurname: string;
  /** A stepfamily surname a child is also known by. */
  familySurname: string;
  gender: Gender;
  dob: DateParts;
  age: number;
  nhs: string;
  upn: string;
  ni: string;
  address: Address;
  /** The address before a move within the last few years, which some agencies still hold. */
  oldAddress: Address | undefined;
  household: number;
  adult: boolean;
  /** True when forename typos and nicknames are not applied, so twins stay clearly distinguishable. */
  twin: boolean;
}

interface Household {
  number: number;
  members: Person[];
  adults: Person[];
  children: Person[];
}

// What each agency's extract looks like: its columns (as in council/signposts/sources.json), how it writes
// dates and gender, how often it lacks identifiers, and how error-prone its records are.
interface SourceLayout {
  code: string;
  prefix: string;
  columns: {
    recordId: string;
    forenames: string;
    surname: string;
    previousNames?: string;
    aliases?: string;
    dob: string;
    gender?: string;
    address: string;
    postcode: string;
    uprn?: string;
    nhsNumber?: string;
    upn?: string;
    niNumber?: string;
    eventId: string;
    type: string;
    start: string;
    end?: string;
    summary: string;
    status: string;
    professional: string;
    contact: string;
    household?: string;
    parent?: string;
  };
  dateFormat: 'iso' | 'uk' | 'compact';
  genderWords: boolean;
  /** Share of records without each identifier the source holds. */
  missingId: number;
  /** Chance of exactly one and of two errors on a record. */
  oneError: number;
  twoErrors: number;
  /** Forenames include middle names. */
  middleNames: boolean;
  upperSurname: boolean;
  shortStreets: boolean;
  contactEmail: boolean;
  events: { type: string; weight: number; summaries: string[]; ages?: [number, number] }[];
  /** Youngest age at which the agency records anything (school starts at four, criminal responsibility at ten). */
  minimumAge?: number;
}

const LAYOUTS: SourceLayout[] = [
  {
    code: 'childrens-social-care',
    prefix: 'CSC',
    columns: {
      recordId: 'person_id',
      forenames: 'forename',
      surname: 'surname',
      previousNames: 'former_surname',
      aliases: 'known_as',
      dob: 'date_of_birth',
      gender: 'gender',
      address: 'address',
      postcode: 'postcode',
      uprn: 'uprn',
      nhsNumber: 'nhs_number',
      eventId: 'episode_id',
      type: 'episode_type',
      start: 'start_date',
      end: 'end_date',
      summary: 'summary',
      status: 'status',
      professional: 'social_worker',
      contact: 'social_worker_contact',
      household: 'household_id',
      parent: 'parent_person_id',
    },
    dateFormat: 'iso',
    genderWords: true,
    missingId: 0.3,
    oneError: 0.2,
    twoErrors: 0.025,
    middleNames: false,
    upperSurname: false,
    shortStreets: false,
    contactEmail: false,
    events: [
      {
        type: 'Child in need plan',
        weight: 5,
        summaries: ['Plan agreed with the family; weekly visits by the allocated worker.', 'Plan reviewed; progress with school attendance noted.'],
      },
      {
        type: 'Child protection plan',
        weight: 2,
        summaries: ['Initial conference held; core group meets monthly.', 'Plan reviewed at core group; actions on track.'],
      },
      {
        type: 'Section 47 enquiry',
        weight: 2,
        summaries: ['Enquiry completed with partner agencies; outcome recorded.', 'Strategy discussion held; joint visit arranged.'],
      },
      {
        type: 'Looked after',
        weight: 1,
        summaries: ['Placed with local foster carers; contact with family arranged.', 'Placement review held; care plan updated.'],
      },
    ],
  },
  {
    code: 'early-help',
    prefix: 'EH',
    columns: {
      recordId: 'client_ref',
      forenames: 'first_name',
      surname: 'last_name',
      dob: 'dob',
      gender: 'sex',
      address: 'address_1',
      postcode: 'postcode',
      eventId: 'plan_ref',
      type: 'support',
      start: 'opened',
      end: 'closed',
      summary: 'notes',
      status: 'plan_status',
      professional: 'key_worker',
      contact: 'key_worker_phone',
      household: 'family_ref',
    },
    dateFormat: 'uk',
    genderWords: false,
    missingId: 0,
    oneError: 0.26,
    twoErrors: 0.035,
    middleNames: false,
    upperSurname: false,
    shortStreets: true,
    contactEmail: false,
    events: [
      {
        type: 'Early help assessment',
        weight: 3,
        summaries: ['Assessment completed with the family; support plan agreed.', 'Family requested help with routines and school mornings.'],
      },
      {
        type: 'Family support',
        weight: 3,
        summaries: ['Fortnightly home visits; parenting course offered.', 'Support with budgeting and benefits; referral to the food club.'],
      },
    ],
  },
  {
    code: 'schools',
    minimumAge: 4,
    prefix: 'PUP',
    columns: {
      recordId: 'pupil_id',
      forenames: 'legal_forename',
      aliases: 'preferred_forename',
      surname: 'legal_surname',
      dob: 'dob',
      gender: 'gender',
      address: 'address',
      postcode: 'postcode',
      upn: 'upn',
      eventId: 'event_id',
      type: 'event',
      start: 'from',
      end: 'to',
      summary: 'detail',
      status: 'state',
      professional: 'designated_safeguarding_lead',
      contact: 'school_phone',
    },
    dateFormat: 'uk',
    genderWords: false,
    missingId: 0.02,
    oneError: 0.13,
    twoErrors: 0.015,
    middleNames: false,
    upperSurname: false,
    shortStreets: false,
    contactEmail: false,
    events: [
      {
        type: 'Attendance below 90%',
        weight: 5,
        summaries: ['Attendance this term below 90%; letter sent home.', 'Attendance meeting held with parent; plan agreed.'],
      },
      {
        type: 'SEN support',
        weight: 4,
        summaries: ['On the SEN support register; targets reviewed termly.', 'Reading support in small groups three times a week.'],
      },
      { type: 'EHC plan', weight: 1, summaries: ['Education, health and care plan in place; annual review due.', 'Plan names additional classroom support.'] },
      { type: 'Suspension', weight: 1, summaries: ['Two-day suspension; reintegration meeting held.', 'One-day suspension after a playground incident.'] },
      { type: 'Permanent exclusion', weight: 0.2, summaries: ['Permanently excluded; place arranged at the pupil referral unit.'] },
    ],
  },
  {
    code: 'police',
    minimumAge: 10,
    prefix: 'NOM',
    columns: {
      recordId: 'nominal_id',
      forenames: 'forenames',
      surname: 'surname',
      aliases: 'alias',
      dob: 'dob',
      gender: 'gender',
      address: 'address',
      postcode: 'postcode',
      niNumber: 'ni_number',
      eventId: 'occurrence',
      type: 'category',
      start: 'date',
      summary: 'summary',
      status: 'status',
      professional: 'officer',
      contact: 'officer_contact',
    },
    dateFormat: 'compact',
    genderWords: false,
    missingId: 0.5,
    oneError: 0.28,
    twoErrors: 0.04,
    middleNames: true,
    upperSurname: true,
    shortStreets: true,
    contactEmail: false,
    events: [
      {
        type: 'Domestic abuse incident',
        weight: 4,
        summaries: ['Officers attended a reported argument; safeguarding notice raised.', 'Call from a neighbour; both adults spoken to separately.'],
        ages: [16, 120],
      },
      {
        type: 'Anti-social behaviour',
        weight: 3,
        summaries: ['Reported for noise and gatherings outside the flats.', 'Warning given after complaints from residents.'],
      },
      {
        type: 'Missing person report',
        weight: 2,
        summaries: ['Reported missing overnight; found safe next morning.', 'Missing for six hours; return interview offered.'],
        ages: [10, 120],
      },
    ],
  },
  {
    code: 'health',
    prefix: 'HP',
    columns: {
      recordId: 'patient_id',
      forenames: 'given_name',
      surname: 'family_name',
      dob: 'birth_date',
      gender: 'gender',
      address: 'address_line',
      postcode: 'postcode',
      nhsNumber: 'nhs_number',
      eventId: 'contact_id',
      type: 'contact_type',
      start: 'contact_date',
      summary: 'outcome',
      status: 'status',
      professional: 'clinician',
      contact: 'clinician_contact',
    },
    dateFormat: 'iso',
    genderWords: true,
    missingId: 0.04,
    oneError: 0.12,
    twoErrors: 0.012,
    middleNames: false,
    upperSurname: false,
    shortStreets: false,
    contactEmail: false,
    events: [
      {
        type: 'Health visitor contact',
        weight: 5,
        summaries: ['Developmental review completed; growth on track.', 'New birth visit; feeding and sleep discussed.'],
        ages: [0, 4],
      },
      {
        type: 'School nurse review',
        weight: 3,
        summaries: ['Drop-in session; advice on sleep and wellbeing.', 'Review of asthma plan with the school.'],
        ages: [5, 17],
      },
      {
        type: 'A&E attendance',
        weight: 3,
        summaries: ['Attended with a minor injury; discharged with advice.', 'Attended after a fall at home; follow-up with GP.'],
      },
    ],
  },
  {
    code: 'housing',
    prefix: 'TEN',
    columns: {
      recordId: 'tenant_ref',
      forenames: 'first_names',
      surname: 'surname',
      previousNames: 'previous_surname',
      dob: 'dob',
      address: 'property_address',
      postcode: 'postcode',
      uprn: 'uprn',
      niNumber: 'ni_number',
      eventId: 'action_ref',
      type: 'action',
      start: 'action_date',
      summary: 'notes',
      status: 'status',
      professional: 'housing_officer',
      contact: 'housing_officer_email',
      household: 'tenancy_ref',
    },
    dateFormat: 'uk',
    genderWords: false,
    missingId: 0.3,
    oneError: 0.2,
    twoErrors: 0.025,
    middleNames: true,
    upperSurname: false,
    shortStreets: false,
    contactEmail: true,
    events: [
      { type: 'Rent arrears', weight: 5, summaries: ['Arrears of four weeks; repayment plan agreed.', 'Referred to money advice; payments resumed.'] },
      {
        type: 'Notice seeking possession',
        weight: 1,
        summaries: ['Notice served after arrears grew; tenant engaging.', 'Notice withdrawn after arrears cleared.'],
      },
      {
        type: 'Homelessness application',
        weight: 1,
        summaries: ['Application taken; temporary accommodation offered.', 'Prevention duty accepted; mediation with landlord.'],
      },
    ],
  },
  {
    code: 'youth-justice',
    minimumAge: 10,
    prefix: 'YJ',
    columns: {
      recordId: 'yjs_id',
      forenames: 'forename',
      surname: 'surname',
      aliases: 'alias',
      dob: 'dob',
      gender: 'gender',
      address: 'address',
      postcode: 'postcode',
      upn: 'upn',
      eventId: 'order_id',
      type: 'order',
      start: 'start',
      end: 'end',
      summary: 'summary',
      status: 'status',
      professional: 'case_manager',
      contact: 'case_manager_contact',
    },
    dateFormat: 'iso',
    genderWords: true,
    missingId: 0.4,
    oneError: 0.2,
    twoErrors: 0.025,
    middleNames: false,
    upperSurname: false,
    shortStreets: false,
    contactEmail: false,
    events: [
      { type: 'Referral order', weight: 2, summaries: ['Panel agreed a contract with reparation hours.', 'Order progressing; attends sessions as agreed.'] },
      { type: 'Youth conditional caution', weight: 3, summaries: ['Caution with conditions to attend two sessions.', 'Conditions completed; case closed.'] },
    ],
  },
  {
    code: 'adult-social-care',
    prefix: 'ASC',
    columns: {
      recordId: 'client_id',
      forenames: 'forenames',
      surname: 'surname',
      dob: 'date_of_birth',
      gender: 'gender',
      address: 'address',
      postcode: 'postcode',
      nhsNumber: 'nhs_number',
      niNumber: 'ni_number',
      eventId: 'service_id',
      type: 'service',
      start: 'start_date',
      end: 'end_date',
      summary: 'summary',
      status: 'status',
      professional: 'worker',
      contact: 'worker_contact',
    },
    dateFormat: 'uk',
    genderWords: true,
    missingId: 0.15,
    oneError: 0.18,
    twoErrors: 0.02,
    middleNames: true,
    upperSurname: false,
    shortStreets: false,
    contactEmail: false,
    events: [
      {
        type: 'Care Act assessment',
        weight: 4,
        summaries: ['Assessment completed; home care twice daily agreed.', 'Needs reviewed after a hospital stay; equipment ordered.'],
      },
      { type: "Carer's assessment", weight: 2, summaries: ["Carer's assessment completed; respite offered.", 'Carer supported with a weekly break.'] },
      {
        type: 'Safeguarding enquiry',
        weight: 1,
        summaries: ['Concern raised by a neighbour; enquiry completed.', 'Enquiry about a missed care visit; provider responded.'],
      },
    ],
  },
];

/** The column names each source's extract uses, for checking the generator against the register. */
export function demoColumns(): Record<string, string[]> {
  return Object.fromEntries(LAYOUTS.map((l) => [l.code, Object.values(l.columns)]));
}

const DAY = 86_400_000;

function dateOf(ms: number): DateParts {
  const d = new Date(ms);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const iso = (p: DateParts): string => `${p.y}-${pad(p.m)}-${pad(p.d)}`;

function formatDob(p: DateParts, format: SourceLayout['dateFormat']): string {
  if (format === 'uk') return `${pad(p.d)}/${pad(p.m)}/${p.y}`;
  if (format === 'compact') return `${p.y}${pad(p.m)}${pad(p.d)}`;
  return iso(p);
}

function validDay(p: DateParts): boolean {
  if (p.m < 1 || p.m > 12 || p.d < 1) return false;
  return p.d <= new Date(Date.UTC(p.y, p.m, 0)).getUTCDate();
}

const titleCase = (s: string): string => s.replace(/(^|[\s'-])([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase());

class Generator {
  readonly random: Random;
  readonly today: number;
  readonly nicknames = defaultNicknames();
  private readonly cumulative = new Map<readonly string[], Float64Array>();
  private readonly usedNhs = new Set<string>();
  private readonly usedNi = new Set<string>();
  private upnSerial = 0;
  private uprn = 100_012_000_000;
  private readonly streetQueue: Address[] = [];
  private readonly formerQueue: Address[] = [];
  private readonly usedStreets = new Set<string>();
  private readonly usedPostcodes = new Set<string>();

  constructor(seed: number, today: Date) {
    this.random = seededRandom(seed);
    this.today = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  weighted<T>(list: readonly [T, number][]): T {
    let total = 0;
    for (const [, w] of list) total += w;
    let r = this.random() * total;
    for (const [value, w] of list) {
      r -= w;
      if (r < 0) return value;
    }
    return (list[list.length - 1] as [T, number])[0];
  }

  /** A name from a list, the first few far more often than the last (roughly Zipf's law). */
  name(list: readonly string[]): string {
    let cum = this.cumulative.get(list);
    if (!cum) {
      cum = new Float64Array(list.length);
      let total = 0;
      for (let i = 0; i < list.length; i++) cum[i] = total += 1 / Math.pow(i + 1.5, 1.05);
      this.cumulative.set(list, cum);
    }
    const r = this.random() * (cum[cum.length - 1] as number);
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return list[lo] as string;
  }

  /** A free address; former homes come from other streets than current ones, so a move is rarely next door. */
  nextAddress(former = false): Address {
    const queue = former ? this.formerQueue : this.streetQueue;
    if (queue.length === 0) this.newStreet(queue);
    const at = Math.floor(this.random() * queue.length);
    const address = queue[at] as Address;
    queue[at] = queue[queue.length - 1] as Address;
    queue.pop();
    return address;
  }

  private newStreet(queue: Address[]): void {
    let street = '';
    let district = '';
    if (this.usedStreets.size < STREET_STEMS.length * STREET_SUFFIXES.length) {
      do street = `${this.pick(STREET_STEMS)} ${this.pick(STREET_SUFFIXES)}`;
      while (this.usedStreets.has(street));
      this.usedStreets.add(street);
      district = `KM${this.int(1, 9)}`;
    } else {
      // Every name is in use (a borough of a quarter of a million people or more): names repeat in other districts, as they do in large towns.
      do {
        street = `${this.pick(STREET_STEMS)} ${this.pick(STREET_SUFFIXES)}`;
        district = `KM${this.int(1, 9)}`;
      } while (this.usedStreets.has(`${street}|${district}`));
      this.usedStreets.add(`${street}|${district}`);
    }
    const houses = this.int(20, 140);
    let postcode = '';
    let left = 0;
    for (let n = 1; n <= houses; n++) {
      if (left === 0) {
        do postcode = `${district} ${this.int(0, 9)}${this.pick([...POSTCODE_UNIT_LETTERS])}${this.pick([...POSTCODE_UNIT_LETTERS])}`;
        while (this.usedPostcodes.has(postcode));
        this.usedPostcodes.add(postcode);
        left = this.int(10, 30);
      }
      left--;
      this.uprn += this.int(1, 40);
      const number = this.chance(0.02) ? `${n}a` : String(n);
      queue.push({ number, street, postcode, uprn: String(this.uprn) });
    }
  }

  nhsNumber(): string {
    for (;;) {
      const nine = String(this.pick([4, 6, 7])) + pad(this.int(0, 99_999_999), 8);
      const check = nhsCheckDigit(nine);
      if (check === undefined) continue;
      const nhs = nine + String(check);
      if (this.usedNhs.has(nhs)) continue;
      this.usedNhs.add(nhs);
      return nhs;
    }
  }

  upn(): string {
    this.upnSerial++;
    // Check letter, a local authority number, a school number, a year and a serial.
    return `${this.pick([...'ABCDEFGHJKLMNPQRTUVWXYZ'])}987${pad(this.int(1000, 7999), 4)}${pad(this.int(5, 26))}${pad(this.upnSerial % 1000, 3)}`;
  }

  niNumber(): string {
    const first = 'ABCEGHJKLMNPRSTWXYZ';
    const second = 'ABCEGHJKLMNPRSTWXYZ';
    const bad = new Set(['BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ']);
    for (;;) {
      const prefix = this.pick([...first]) + this.pick([...second]);
      if (bad.has(prefix)) continue;
      const ni = `${prefix}${pad(this.int(0, 999_999), 6)}${this.pick(['A', 'B', 'C', 'D'])}`;
      if (this.usedNi.has(ni)) continue;
      this.usedNi.add(ni);
      return ni;
    }
  }

  birthDate(age: number): DateParts {
    // Born between `age + 1` and `age` years before today.
    const latest = this.today - age * 365.25 * DAY;
    return dateOf(latest - this.random() * 365 * DAY);
  }
}

function forenamePool(pool: NamePool, gender: Gender, birthYear: number): string[] {
  if (birthYear < 1965) return gender === 'F' ? pool.femaleOlder : pool.maleOlder;
  if (birthYear < 2000) return gender === 'F' ? pool.femaleMiddle : pool.maleMiddle;
  return gender === 'F' ? pool.femaleYoung : pool.maleYoung;
}

/** Names a twin could not be mistaken for: different first letter, spelling, sound and nickname group. */
function clearlyDifferent(g: Generator, a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x[0] === y[0] || jaroWinkler(x, y) >= 0.75 || phoneticKey(x) === phoneticKey(y)) return false;
  return !shareGroup(g.nicknames.get(x) ?? [], g.nicknames.get(y) ?? []);
}

/** Names a family would not give two of its members: the same, variants of one name, or sounding alike. */
function confusable(g: Generator, a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y || jaroWinkler(x, y) >= 0.85 || phoneticKey(x) === phoneticKey(y)) return true;
  return shareGroup(g.nicknames.get(x) ?? [], g.nicknames.get(y) ?? []);
}

/** Chooses the person's forename again until it differs from everyone else in the household. */
function distinctInHousehold(g: Generator, p: Person, h: Household, pool: NamePool, strict: (other: Person) => boolean): void {
  const names = forenamePool(pool, p.gender, p.dob.y);
  for (let tries = 0; tries < 200; tries++) {
    const clash = h.members.some((o) => o !== p && (confusable(g, o.forename, p.forename) || (strict(o) && !clearlyDifferent(g, o.forename, p.forename))));
    if (!clash) break;
    p.forename = g.name(names);
  }
  if (p.middle && h.members.some((o) => o !== p && confusable(g, o.forename, p.middle))) p.middle = '';
}

interface World {
  people: Person[];
  households: Household[];
  twins: [string, string][];
}

function buildWorld(g: Generator, target: number): World {
  const people: Person[] = [];
  const households: Household[] = [];
  const twins: [string, string][] = [];
  const todayYear = new Date(g.today).getUTCFullYear();

  const makePerson = (h: Household, heritage: Heritage, gender: Gender, age: number, surname: string, adult: boolean, dob?: DateParts): Person => {
    const birth = dob ?? g.birthDate(age);
    const pool = POOLS[heritage];
    const names = forenamePool(pool, gender, birth.y);
    const forename = g.name(names);
    let middle = '';
    if (g.chance(0.35)) {
      middle = g.name(names);
      if (middle === forename) middle = '';
    }
    const person: Person = {
      id: `P${pad(people.length + 1, 6)}`,
      forename,
      middle,
      surname,
      previousSurname: '',
      familySurname: '',
      gender,
      dob: birth,
      age,
      nhs: g.nhsNumber(),
      upn: age >= 3 && age <= 18 ? g.upn() : '',
      ni: age >= 16 ? g.niNumber() : '',
      address: undefined as unknown as Address,
      oldAddress: undefined,
      household: h.number,
      adult,
      twin: false,
    };
    people.push(person);
    h.members.push(person);
    (adult ? h.adults : h.children).push(person);
    return person;
  };

  const heritageOf = (): Heritage => g.weighted(HERITAGES);

  while (people.length < target) {
    const h: Household = { number: households.length + 1, members: [], adults: [], children: [] };
    households.push(h);
    const heritage = heritageOf();
    const pool = POOLS[heritage];
    const kind = g.weighted<'family' | 'single' | 'couple' | 'older'>([
      ['family', 0.42],
      ['single', 0.2],
      ['couple', 0.16],
      ['older', 0.22],
    ]);
    const doubleBarrel = (): string => `${g.name(pool.surnames)}-${g.name(POOLS[heritageOf()].surnames)}`;
    const familyName = g.chance(0.02) ? doubleBarrel() : g.name(pool.surnames);
    if (kind === 'single') {
      makePerson(h, heritage, g.chance(0.5) ? 'F' : 'M', g.int(18, 64), familyName, true);
    } else if (kind === 'couple' || kind === 'older') {
      const age = kind === 'older' ? g.int(65, 94) : g.int(20, 64);
      const together = kind === 'couple' || g.chance(0.55);
      const first = makePerson(h, heritage, g.chance(0.5) ? 'F' : 'M', age, familyName, true);
      if (together) {
        const partnerHeritage = g.chance(0.06) ? heritageOf() : heritage;
        const partner = makePerson(h, partnerHeritage, first.gender === 'F' ? 'M' : 'F', Math.max(18, age + g.int(-5, 5)), familyName, true);
        distinctInHousehold(g, partner, h, POOLS[partnerHeritage], () => false);
        const wife = first.gender === 'F' ? first : partner;
        if (g.chance(kind === 'older' ? 0.85 : 0.55)) wife.previousSurname = g.name(POOLS[wife === first ? heritage : partnerHeritage].surnames);
        else if (g.chance(0.7)) wife.surname = g.name(POOLS[wife === first ? heritage : partnerHeritage].surnames);
        if (wife.previousSurname === wife.surname) wife.previousSurname = '';
      }
    } else {
      // A family: one or two adults and their children, siblings a year or a few apart, now and then twins.
      const motherAge = g.int(21, 52);
      const couple = g.chance(0.72);
      const mother = makePerson(h, heritage, 'F', motherAge, familyName, true);
      let father: Person | undefined;
      let childSurname = familyName;
      if (couple) {
        const partnerHeritage = g.chance(0.08) ? heritageOf() : heritage;
        father = makePerson(h, partnerHeritage, 'M', Math.max(19, motherAge + g.int(-3, 7)), g.name(POOLS[partnerHeritage].surnames), true);
        distinctInHousehold(g, father, h, POOLS[partnerHeritage], () => false);
        const style = g.weighted<'married' | 'unmarried' | 'step' | 'barrel'>([
          ['married', 0.62],
          ['unmarried', 0.22],
          ['step', 0.08],
          ['barrel', 0.08],
        ]);
        if (style === 'married') {
          mother.previousSurname = mother.surname;
          mother.surname = father.surname;
          childSurname = father.surname;
        } else if (style === 'unmarried') childSurname = g.chance(0.75) ? father.surname : mother.surname;
        else if (style === 'barrel') childSurname = `${mother.surname}-${father.surname}`;
        else {
          // Remarried: mother took her new partner's name; the children keep their birth surname but are
          // also known by the family's.
          mother.previousSurname = mother.surname;
          mother.surname = father.surname;
          childSurname = mother.previousSurname;
        }
        if (mother.previousSurname === mother.surname) mother.previousSurname = '';
      } else if (g.chance(0.25)) childSurname = g.name(pool.surnames);
      const count = g.weighted<number>([
        [1, 0.3],
        [2, 0.36],
        [3, 0.2],
        [4, 0.09],
        [5, 0.05],
      ]);
      let age = Math.min(17, motherAge - 18 - g.int(0, 8));
      for (let c = 0; c < count && age >= 0; c++) {
        const gender: Gender = g.chance(0.51) ? 'M' : 'F';
        const child = makePerson(h, heritage, gender, age, childSurname, false);
        if (childSurname !== familyName && childSurname === mother.previousSurname) child.familySurname = mother.surname;
        distinctInHousehold(g, child, h, pool, () => false);
        if (g.chance(0.008)) {
          // Twins: same day, same surname, forenames nobody would confuse.
          const twinGender: Gender = g.chance(0.5) ? gender : gender === 'M' ? 'F' : 'M';
          const twin = makePerson(h, heritage, twinGender, age, childSurname, false, child.dob);
          twin.familySurname = child.familySurname;
          distinctInHousehold(g, twin, h, pool, (other) => other === child);
          child.twin = twin.twin = true;
          twins.push([child.id, twin.id]);
          c++;
        }
        age -= g.int(1, 5);
      }
    }
    const address = g.nextAddress();
    // About one household in eight moved in the last few years; some agencies still hold the old address.
    const oldAddress = g.chance(0.12) ? g.nextAddress(true) : undefined;
    for (const p of h.members) {
      p.address = address;
      p.oldAddress = oldAddress && p.age >= 1 ? oldAddress : undefined;
      if (p.dob.y > todayYear) throw new Error('A date of birth is in the future');
    }
  }
  return { people, households, twins };
}

type ErrorKind =
  | 'forenameTypo'
  | 'surnameTypo'
  | 'nickname'
  | 'swapped'
  | 'dobMissing'
  | 'dobPartial'
  | 'dobSwap'
  | 'dobTypo'
  | 'oldAddress'
  | 'oldSurname'
  | 'familySurname'
  | 'barrelPart';

/** Mistypes a name: two letters swapped, one dropped or doubled, or a vowel changed (never the first letter). */
function typo(g: Generator, name: string): string {
  const s = name.toLowerCase();
  if (s.length < 4) return name;
  const i = g.int(1, s.length - 2);
  const kind = g.int(0, 3);
  let out = s;
  if (kind === 0) out = s.slice(0, i) + (s[i + 1] as string) + (s[i] as string) + s.slice(i + 2);
  else if (kind === 1) out = s.slice(0, i) + s.slice(i + 1);
  else if (kind === 2) out = s.slice(0, i) + (s[i] as string) + s.slice(i);
  else {
    const vowels = [...s].map((ch, k) => (k > 0 && 'aeiou'.includes(ch) ? k : -1)).filter((k) => k > 0);
    if (vowels.length === 0) out = s.slice(0, i) + s.slice(i + 1);
    else {
      const k = g.pick(vowels);
      const others = [...'aeiou'].filter((v) => v !== s[k]);
      out = s.slice(0, k) + g.pick(others) + s.slice(k + 1);
    }
  }
  if (out === s) out = s.slice(0, i) + s.slice(i + 1);
  return titleCase(out);
}

interface RecordView {
  forename: string;
  middle: string;
  surname: string;
  previousSurname: string;
  aliases: string;
  dob: string;
  gender: string;
  address: Address;
}

/** How one agency has this person: the true details with the slips its record carries. */
function recordView(g: Generator, p: Person, layout: SourceLayout): RecordView {
  const count = g.chance(layout.twoErrors) ? 2 : g.chance(layout.oneError / (1 - layout.twoErrors)) ? 1 : 0;
  const errors = new Set<ErrorKind>();
  // Moved households and married names are facts about the person; an agency behind on them is common.
  if (p.oldAddress && g.chance(0.3)) errors.add('oldAddress');
  if (p.previousSurname && g.chance(0.2)) errors.add('oldSurname');
  if (p.familySurname && g.chance(0.35)) errors.add('familySurname');
  const dayMonth = p.dob.d <= 12 && p.dob.d !== p.dob.m;
  const options: [ErrorKind, number][] = [
    ['forenameTypo', p.twin ? 0 : 14],
    ['surnameTypo', 12],
    ['nickname', INFORMAL[p.forename] && !p.twin ? 22 : 0],
    ['swapped', 4],
    ['dobMissing', 11],
    ['dobPartial', 10],
    ['dobSwap', dayMonth ? 4 : 0],
    ['dobTypo', 6],
    ['barrelPart', p.surname.includes('-') ? 30 : 0],
  ];
  while (errors.size < count) errors.add(g.weighted(options.filter(([, w]) => w > 0)));
  // Keep to the drawn count, so hardly any record carries more than two slips.
  while (errors.size > Math.max(count, 1)) errors.delete([...errors][errors.size - 1] as ErrorKind);

  let forename = p.forename;
  let surname = p.surname;
  let previousSurname = p.previousSurname;
  let middle = layout.middleNames && g.chance(0.6) ? p.middle : '';
  let aliases = '';
  let dob = formatDob(p.dob, layout.dateFormat);
  let address = p.address;
  for (const e of errors) {
    if (e === 'forenameTypo') forename = typo(g, forename);
    else if (e === 'surnameTypo') surname = surname.includes('-') ? surname : typo(g, surname);
    else if (e === 'nickname') forename = g.pick(INFORMAL[p.forename] ?? [forename]);
    else if (e === 'oldAddress' && p.oldAddress) address = p.oldAddress;
    else if (e === 'oldSurname') {
      surname = p.previousSurname;
      previousSurname = '';
    } else if (e === 'familySurname') surname = p.familySurname;
    else if (e === 'barrelPart') surname = g.pick(surname.split('-'));
    else if (e === 'dobMissing') dob = '';
    else if (e === 'dobPartial') dob = g.chance(0.5) ? String(p.dob.y) : `${p.dob.y}-${pad(p.dob.m)}`;
    else if (e === 'dobSwap') dob = formatDob({ y: p.dob.y, m: p.dob.d, d: p.dob.m }, layout.dateFormat);
    else if (e === 'dobTypo') dob = formatDob(dobTypo(g, p.dob), layout.dateFormat);
  }
  if (errors.has('swapped')) [forename, surname] = [surname, forename];
  if (layout.code === 'schools' && INFORMAL[p.forename] && g.chance(0.3)) aliases = g.pick(INFORMAL[p.forename] ?? []);
  if (layout.code === 'police' && g.chance(0.05)) aliases = `${g.pick(INFORMAL[p.forename] ?? [p.forename])} ${p.previousSurname || p.surname}`;
  if (layout.upperSurname) surname = surname.toUpperCase();
  if (!layout.columns.previousNames) previousSurname = '';
  else if (previousSurname && g.chance(0.3)) previousSurname = '';
  if (middle && !layout.middleNames) middle = '';
  const gender = !layout.columns.gender || g.chance(0.02) ? '' : layout.genderWords ? (p.gender === 'F' ? 'Female' : 'Male') : p.gender;
  return { forename, middle, surname, previousSurname, aliases, dob, gender, address };
}

/** One digit of the date changed, still a real date in the past. */
function dobTypo(g: Generator, dob: DateParts): DateParts {
  const text = `${dob.y}${pad(dob.m)}${pad(dob.d)}`;
  for (let tries = 0; tries < 20; tries++) {
    const at = g.pick([3, 5, 6, 7]);
    const digit = String(g.int(0, 9));
    if (digit === text[at]) continue;
    const t = text.slice(0, at) + digit + text.slice(at + 1);
    const p = { y: Number(t.slice(0, 4)), m: Number(t.slice(4, 6)), d: Number(t.slice(6, 8)) };
    if (validDay(p) && Date.UTC(p.y, p.m - 1, p.d) < g.today) return p;
  }
  return dob;
}

interface Staff {
  name: string;
  contact: string;
}

function staffFor(g: Generator, layout: SourceLayout): Staff[] {
  const staff: Staff[] = [];
  for (let i = 0; i < 24; i++) {
    const heritage = g.weighted(HERITAGES);
    const gender: Gender = g.chance(0.6) ? 'F' : 'M';
    const first = g.name(gender === 'F' ? POOLS[heritage].femaleMiddle : POOLS[heritage].maleMiddle);
    const last = g.name(POOLS[heritage].surnames);
    const contact = layout.contactEmail ? `${first}.${last}@kingsmere.example`.toLowerCase().replace(/'/g, '') : `0161 496 0${pad(g.int(100, 999), 3)}`;
    staff.push({ name: `${first} ${last}`, contact });
  }
  return staff;
}

type Corruption = (row: Record<string, string>, layout: SourceLayout) => boolean;

// Rows an agency's export really does contain now and then, which the ingest refuses.
const CORRUPTIONS: Corruption[] = [
  (row, l) => ((row[l.columns.postcode] = 'KM99'), true),
  (row, l) => ((row[l.columns.dob] = '3/2/15'), true),
  (row, l) => ((row[l.columns.start] = '2025-02-30'), true),
  (row, l) => ((row[l.columns.status] = 'pending'), true),
  (row, l) => {
    const c = l.columns.nhsNumber;
    if (!c) return false;
    const nine = `4${pad(Math.floor(Number(row[l.columns.recordId]?.replace(/\D/g, '') ?? '0') % 1e8), 8)}`;
    // Any last digit is wrong where no check digit is possible.
    row[c] = nine + String(((nhsCheckDigit(nine) ?? 0) + 1) % 10);
    return true;
  },
  (row, l) => {
    const c = l.columns.upn ?? l.columns.niNumber;
    if (!c) return false;
    row[c] = c === l.columns.upn ? 'A98712' : 'QQ123456C';
    return true;
  },
];

class ExtractWriter {
  readonly rows: Record<string, string>[] = [];
  private nextRecord: number;
  private nextEvent: number;
  private readonly staff: Staff[];
  readonly households = new Map<number, string>();

  constructor(
    private readonly g: Generator,
    readonly layout: SourceLayout,
    private readonly truth: Map<string, string>,
  ) {
    this.nextRecord = g.int(10_000, 90_000);
    this.nextEvent = g.int(100_000, 900_000);
    this.staff = staffFor(g, layout);
  }

  householdRef(h: number): string {
    let ref = this.households.get(h);
    if (!ref) this.households.set(h, (ref = `${this.layout.prefix}-F${pad(h, 6)}`));
    return ref;
  }

  /** Writes one record (one row per event) and returns its record id. */
  add(p: Person, household: string, parentRecordId: string): string {
    const { g, layout } = this;
    const c = layout.columns;
    const recordId = `${layout.prefix}${pad(this.nextRecord, 7)}`;
    this.nextRecord += g.int(1, 3);
    this.truth.set(`${layout.code}/${recordId}`, p.id);
    const view = recordView(g, p, layout);
    const street = layout.shortStreets && g.chance(0.3) ? view.address.street.replace(/\w+$/, (w) => STREET_SHORT[w] ?? w) : view.address.street;
    const base: Record<string, string> = {};
    base[c.recordId] = recordId;
    base[c.forenames] = view.middle ? `${view.forename} ${view.middle}` : view.forename;
    base[c.surname] = view.surname;
    if (c.previousNames) base[c.previousNames] = view.previousSurname;
    if (c.aliases) base[c.aliases] = view.aliases;
    base[c.dob] = view.dob;
    if (c.gender) base[c.gender] = view.gender;
    base[c.address] = `${view.address.number} ${street}, Kingsmere`;
    base[c.postcode] = g.chance(0.01) ? '' : view.address.postcode;
    if (c.uprn) base[c.uprn] = view.address === p.address && g.chance(0.9) ? view.address.uprn : '';
    if (c.nhsNumber) base[c.nhsNumber] = g.chance(layout.missingId) ? '' : p.nhs;
    if (c.upn) base[c.upn] = !p.upn || g.chance(layout.missingId) ? '' : p.upn;
    if (c.niNumber) base[c.niNumber] = !p.ni || g.chance(layout.missingId) ? '' : p.ni;
    if (c.household) base[c.household] = household;
    if (c.parent) base[c.parent] = parentRecordId;

    const events = layout.events.filter((e) => !e.ages || (p.age >= e.ages[0] && p.age <= e.ages[1]));
    const count = g.weighted<number>([
      [1, 0.45],
      [2, 0.3],
      [3, 0.15],
      [4, 0.1],
    ]);
    const born = Date.UTC(p.dob.y, p.dob.m - 1, p.dob.d);
    const earliest = Math.min(this.g.today - DAY, Math.max(this.g.today - 5 * 365 * DAY, born + DAY, born + (layout.minimumAge ?? 0) * 365.25 * DAY));
    const first = this.rows.length;
    for (let k = 0; k < count; k++) {
      const type = g.weighted(events.map((e) => [e, e.weight] as [(typeof events)[number], number]));
      const start = earliest + Math.floor(g.random() * Math.max(1, (g.today - earliest) / DAY)) * DAY;
      const closed = g.chance(0.6);
      const end = closed ? Math.min(g.today, start + g.int(7, 400) * DAY) : 0;
      const who = g.pick(this.staff);
      const row: Record<string, string> = { ...base };
      row[c.eventId] = `${layout.prefix}E${this.nextEvent++}`;
      row[c.type] = type.type;
      row[c.start] = iso(dateOf(start));
      if (c.end) row[c.end] = closed ? iso(dateOf(end)) : '';
      row[c.summary] = g.pick(type.summaries);
      row[c.status] = closed ? 'closed' : 'open';
      row[c.professional] = who.name;
      row[c.contact] = who.contact;
      this.rows.push(row);
    }
    // About one record in five hundred has a row the ingest must refuse.
    if (g.chance(0.002)) {
      const row = this.rows[first] as Record<string, string>;
      for (let tries = 0; tries < 5; tries++) if ((g.pick(CORRUPTIONS) as Corruption)(row, layout)) break;
    }
    return recordId;
  }
}

/**
 * A seeded synthetic dataset of the borough's residents as eight agencies hold them, with the truth.
 * The same options always give the same extracts.
 */
export function demoDataset(options: DemoOptions = {}): DemoDataset {
  const target = options.people ?? 50_000;
  const g = new Generator(options.seed ?? 20261201, options.today ?? new Date(Date.UTC(2026, 11, 1)));
  const world = buildWorld(g, target);
  const truth = new Map<string, string>();
  const writers = new Map(LAYOUTS.map((l) => [l.code, new ExtractWriter(g, l, truth)]));
  const writer = (code: string): ExtractWriter => writers.get(code) as ExtractWriter;

  // Some registrations are made twice: a second record for the same person in the same system.
  const add = (code: string, p: Person, household = '', parent = ''): string => {
    const w = writer(code);
    const id = w.add(p, household, parent);
    if (g.chance(0.01)) w.add(p, household, parent);
    return id;
  };

  for (const h of world.households) {
    const hasChildren = h.children.length > 0;
    // Whole families are known to children's services and early help.
    if (hasChildren && g.chance(0.035)) {
      const ref = writer('childrens-social-care').householdRef(h.number);
      let parentId = '';
      for (const a of h.adults) {
        const id = add('childrens-social-care', a, ref);
        parentId ||= id;
      }
      for (const c of h.children) add('childrens-social-care', c, ref, parentId);
    }
    if (hasChildren && g.chance(0.06)) {
      const ref = writer('early-help').householdRef(h.number);
      for (const p of h.members) add('early-help', p, ref);
    }
    // Council and housing association tenants, with everyone on the tenancy.
    if (g.chance(0.5)) {
      const ref = writer('housing').householdRef(h.number);
      for (const p of h.members) add('housing', p, ref);
    }
    for (const p of h.members) {
      const age = p.age;
      if (age >= 4 && age <= 16 ? g.chance(0.95) : age === 17 ? g.chance(0.5) : false) add('schools', p);
      const health = age < 5 ? 0.95 : age < 18 ? 0.85 : age < 65 ? 0.85 : 0.92;
      if (g.chance(health)) add('health', p);
      if (age >= 10 && age <= 17 && g.chance(0.035)) add('youth-justice', p);
      const police = age >= 12 && age < 18 ? 0.05 : age >= 18 && age < 65 ? 0.14 : age >= 65 ? 0.02 : 0;
      if (g.chance(police)) add('police', p);
      const care = age >= 80 ? 0.35 : age >= 65 ? 0.15 : age >= 18 ? 0.025 : 0;
      if (g.chance(care)) add('adult-social-care', p);
    }
  }

  return {
    extracts: LAYOUTS.map((l) => ({ source: l.code, rows: writer(l.code).rows })),
    truth,
    twins: world.twins,
    people: world.people.length,
  };
}
